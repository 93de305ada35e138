"""ASGI middleware: bounded requests and security headers on every response.

A request whose query string or body is over the limit is answered 413 before the body is read
(by its ``Content-Length``) or as soon as the running count passes the limit (chunked bodies),
so a 10 MB query costs no more than reading what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_QUERY_STRING_BYTES = 32 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024

# Everything is served by the package itself: no other origin, no inline script.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def too_large_message(what: str, limit: int) -> str:
    """The one-line message of a 413."""
    return f"The {what} is too large (at most {limit:,} bytes)"


def is_api(path: str) -> bool:
    """Whether ``path`` is answered in JSON (the API) rather than as a page."""
    return path.startswith("/api/") or path == "/openapi.json"


class LimitsMiddleware:
    """Rejects oversized requests with 413 and adds :data:`SECURITY_HEADERS` to responses.

    ``page`` renders the 413 of a page (status, message -> HTML); the API's is JSON.
    """

    def __init__(
        self,
        app: Any,
        max_query_string: int = MAX_QUERY_STRING_BYTES,
        max_body: int = MAX_BODY_BYTES,
        page: Callable[[int, str], str] | None = None,
    ) -> None:
        self.app = app
        self.max_query_string = max_query_string
        self.max_body = max_body
        self.page = page

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = None if is_api(scope.get("path", "")) else self.page
        if len(scope.get("query_string", b"")) > self.max_query_string:
            await _reject(send, too_large_message("query string", self.max_query_string), page)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _reject(send, too_large_message("request body", self.max_body), page)
            return
        received = 0
        started = rejected = False

        async def counted_receive() -> dict:
            # Past the limit: answer 413 now and tell the application the client has gone.
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body and not started:
                    rejected = True
                    await _reject(send, too_large_message("request body", self.max_body), page)
                    return {"type": "http.disconnect"}
            return message

        async def secured_send(message: dict) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has been sent
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        try:
            await self.app(scope, counted_receive, secured_send)
        except Exception:
            if not rejected:
                raise


async def _reject(send: Any, message: str, page: Callable[[int, str], str] | None = None) -> None:
    if page is None:
        body, kind = json.dumps({"error": message}).encode(), b"application/json"
    else:
        body, kind = page(413, message).encode(), b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""ASGI middleware: who may talk to the server, and how writes must be sent.

- **Host** (DNS rebinding): a page on ``http://evil.example:PORT/`` whose name resolves to
  this machine reaches the server with ``Host: evil.example``. Only the names the server is
  known by are answered: ``localhost``, the loopback addresses, the address it is bound to and
  the names the user allows; anything else gets 400 before any route runs (so that no answer,
  redirect included, is built from an untrusted Host).
- **Writes** (cross-site requests): a browser sends a cross-origin ``POST`` without asking
  first only with a "simple" content type (a form, ``text/plain``, a ``Blob`` or
  ``sendBeacon`` body), and always with an ``Origin`` header. So every request with a body
  must say ``Content-Type: application/json`` (415 otherwise), and every request that is not
  a read must come from the server's own origin when it names one (403 otherwise).
- **Token** (optional): with one set, every request but the static files must carry it, as
  ``Authorization: Bearer TOKEN`` or as the cookie a page sets once it is opened with
  ``?token=TOKEN`` (401 otherwise).
- **HEAD** is answered as GET without the body.
"""

from __future__ import annotations

import hmac
import html
import json
import socket
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from docret.serve.limits import is_api

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN_COOKIE = "docret_token"
READS = {"GET", "HEAD", "OPTIONS"}
WITH_BODY = {"POST", "PUT", "PATCH"}
JSON_TYPE = "application/json"


def host_names(bound: str | None, allowed: Iterable[str] = ()) -> set[str]:
    """Host names (lower case, no port, IPv6 without brackets) the server answers to.

    Loopback names always; ``bound``, the address the server listens on; for an address that
    listens on every interface (``0.0.0.0``, ``::``) also this machine's name and addresses;
    plus ``allowed``, the names the user gives.
    """
    names = set(LOOPBACK_NAMES)
    if bound:
        names.add(bound.strip("[]").lower())
        if bound in ("0.0.0.0", "::", ""):
            names.update(_machine_names())
    names.update(split_host(a)[0] for a in allowed if a.strip())
    return names


def _machine_names() -> set[str]:
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        infos = []
    names.update(str(info[4][0]).lower() for info in infos)
    return names


def split_host(value: str) -> tuple[str, str | None]:
    """``(host, port)`` of a Host header value: ``[::1]:8000`` -> ``("::1", "8000")``."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, port
    return value, None  # a bare name, or an IPv6 address without brackets


def valid_port(port: str | None) -> bool:
    """Whether a Host header's port (None: none given) is a port number."""
    return port is None or (port.isdigit() and int(port) < 65536)


class GuardMiddleware:
    """Answers only trusted Hosts, refuses cross-site writes, asks for the token if set."""

    def __init__(self, app: Any, hosts: set[str], token: str | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.token = token or None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        name, port = split_host(host)
        if name not in self.hosts or not valid_port(port):
            shown = host if len(host) <= 60 else host[:60] + "…"
            await _reject(
                send,
                400,
                f"Unknown host {shown!r}: docret serve answers only to the names it is "
                "started with (--allowed-host NAME adds one)",
            )
            return
        method = scope["method"]
        if method not in READS:
            origin = headers.get("origin")
            if origin is not None and split_origin(origin) != (name, port):
                await _reject(
                    send, 403, "Cross-origin writes are refused (Origin is not this server)"
                )
                return
        if method in WITH_BODY:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != JSON_TYPE:
                await _reject(send, 415, f"Send the request body as {JSON_TYPE} (Content-Type)")
                return
        if self.token is not None and not scope["path"].startswith("/static/"):
            given = _bearer(headers.get("authorization", "")) or _cookie(headers, TOKEN_COOKIE)
            offered = _query_token(scope)
            if offered is not None and _same(offered, self.token) and method in READS:
                await _set_cookie(send, scope, self.token)  # the page, opened from the link
                return
            if given is None or not _same(given, self.token):
                await _reject(
                    send,
                    401,
                    "This server needs its token: send 'Authorization: Bearer TOKEN', or open "
                    "the page once as /?token=TOKEN",
                    [(b"www-authenticate", b"Bearer")],
                    page=not is_api(scope["path"]),
                )
                return
        if method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        await self.app(scope, receive, send)


def split_origin(origin: str) -> tuple[str, str | None] | None:
    """``(host, port)`` of an ``Origin`` header (``http://localhost:8000``); None for ``null``."""
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    return split_host(rest)


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8", "replace"))


def _headers(scope: dict) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _bearer(value: str) -> str | None:
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _cookie(headers: dict[str, str], name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no token
        return None
    return jar[name].value if name in jar else None


def _query_token(scope: dict) -> str | None:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    return next((v for k, v in pairs if k == "token"), None)


async def _set_cookie(send: Any, scope: dict, token: str) -> None:
    """Keep the token in an HttpOnly, SameSite=Strict cookie and go to the same page without
    it in the address (a relative Location: nothing taken from the Host header)."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    rest = urlencode([(k, v) for k, v in pairs if k != "token"])
    location = scope["path"] + ("?" + rest if rest else "")
    cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1", "replace")),
                (b"set-cookie", cookie.encode("latin-1", "replace")),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _without_body(send: Any) -> Any:
    async def head_send(message: dict) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head_send


async def _reject(
    send: Any,
    status: int,
    message: str,
    extra: list[tuple[bytes, bytes]] | None = None,
    page: bool = False,
) -> None:
    """Answer ``status`` with ``message``: as the API's JSON, or (``page``) as a bare page."""
    if page:
        body = (
            f"<!doctype html><meta charset=utf-8><title>docret: {status}</title>"
            f"<p>{html.escape(message)}</p>"
        ).encode()
    else:
        body = json.dumps({"error": message}).encode()
    kind = b"text/html; charset=utf-8" if page else b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

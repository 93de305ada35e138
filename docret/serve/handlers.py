"""How errors are answered: JSON ``{"error": message}`` under ``/api/``, an HTML page
elsewhere, each with the CLI's one-line message and the status its cause calls for."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from docret.errors import DocretError, UnknownDocumentError
from docret.serve.limits import is_api
from docret.serve.render import error_page
from docret.serve.state import RETRY_AFTER, Unavailable

READ_ONLY = "This server is read-only: start it with 'docret serve --allow-writes' to add or remove"


def install(app: FastAPI) -> None:
    """Answer every expected error of ``app`` as :func:`error_response` does."""
    app.add_exception_handler(DocretError, docret_error)
    app.add_exception_handler(Unavailable, unavailable)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def status_of(error: Exception) -> int:
    """The HTTP status of an expected error."""
    if isinstance(error, UnknownDocumentError):
        return 404
    if isinstance(error, Unavailable):
        return 503
    return 400


def error_response(
    request: Request, status: int, message: str, retry_after: int | None = None
) -> Response:
    """The API's JSON error or a page's HTML one (the query kept), with ``Retry-After``."""
    if is_api(request.url.path):
        response: Response = JSONResponse({"error": message}, status_code=status)
    else:
        response = error_page(status, message, request.query_params.get("q", ""), retry_after)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def read_only(doc_id: str = "") -> None:
    """Without --allow-writes: a 405 that says why, rather than a bare 404."""
    raise StarletteHTTPException(405, READ_ONLY)


async def docret_error(request: Request, e: DocretError) -> Response:
    return error_response(request, status_of(e), str(e))


async def unavailable(request: Request, e: Unavailable) -> Response:
    return error_response(request, 503, str(e), retry_after=RETRY_AFTER)


async def invalid(request: Request, e: RequestValidationError) -> Response:
    return error_response(request, 400, validation_message(e))


async def http_error(request: Request, e: StarletteHTTPException) -> Response:
    """Its own status and detail; a 405 also names, in ``Allow``, the methods the path has."""
    if e.status_code != 405:
        return error_response(request, e.status_code, str(e.detail or "Error"))
    response = error_response(request, 405, str(e.detail))
    allowed = allowed_methods(request.app.routes, request.scope["path"])
    response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


def allowed_methods(routes: list, path: str) -> set[str]:
    """Every method of every route at ``path`` (Starlette names only the first route's),
    less the read-only stand-ins for writes."""
    return {
        m
        for route in _flat(routes)
        if getattr(route, "methods", None) and route.path_regex.match(path)
        if getattr(route, "endpoint", None) is not read_only
        for m in route.methods
    }


def _flat(routes: list) -> list:
    """Routes with included routers opened up (newer FastAPI keeps them wrapped)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out.extend(_flat(inner.routes) if inner is not None else [route])
    return out


def validation_message(e: RequestValidationError) -> str:
    """One line for the first invalid parameter, as click words a bad option."""
    first = e.errors()[0] if e.errors() else {}
    if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("body",):
        return "Invalid JSON body: the request has none"
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error") or first.get("msg", "not JSON")
        return f"Invalid JSON body: {reason}"
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path")]
    name = ".".join(where) or "request"
    return f"Invalid value for {name}: {first.get('msg', 'invalid')}"

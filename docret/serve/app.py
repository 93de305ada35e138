"""The web application: HTML pages and a JSON API over one :class:`~docret.index.Index`.

:func:`create_app` assembles it: the routes of :mod:`~docret.serve.api` (JSON),
:mod:`~docret.serve.pages` (HTML) and :mod:`~docret.serve.files`, the error answers of
:mod:`~docret.serve.handlers`, and the middleware. Every call on the index goes through the
:class:`~docret.serve.state.ServedIndex` kept on ``app.state.served``, which keeps it current
and runs reads on a few threads, writes on one. :mod:`docret.serve.guard` decides which
requests are answered at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from docret import __version__
from docret.serve import api, files, handlers, pages
from docret.serve.guard import GuardMiddleware, host_names
from docret.serve.limits import LimitsMiddleware
from docret.serve.render import error_page
from docret.serve.state import READERS, ServedIndex


def create_app(
    db: str | Path,
    *,
    allow_writes: bool = False,
    allowed_hosts: Iterable[str] = (),
    bound: str | None = None,
    token: str | None = None,
    readers: int = READERS,
) -> FastAPI:
    """The web application over the index in ``db`` (opened on first use, reopened on change).

    It answers requests whose Host is a loopback name, ``bound`` (the address it listens on)
    or one of ``allowed_hosts``; with ``token``, only requests that carry it (see
    :mod:`docret.serve.guard`). Reads run on ``readers`` threads.
    """
    app = FastAPI(
        title="docret",
        version=__version__,
        description="Semantic search over your own documents: the JSON API of `docret serve`.",
        docs_url=None,  # FastAPI's interactive docs pages load their scripts from a CDN
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.served = ServedIndex(db, readers=readers)
    app.add_middleware(GuardMiddleware, hosts=host_names(bound, allowed_hosts), token=token)
    # Outermost: its headers go on the guard's answers too. A page's 413 is a page (rendered
    # when the request comes).
    app.add_middleware(LimitsMiddleware, page=lambda *e: error_page(*e).body.decode())
    _without_422(app)
    app.mount("/static", files.static_files(), name="static")
    app.include_router(api.reads)
    app.include_router(api.writes if allow_writes else api.writes_refused)
    app.include_router(pages.router)
    app.include_router(files.router)
    handlers.install(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Close the served index's connections and threads when the server stops."""
    yield
    app.state.served.close()


def _without_422(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI description FastAPI's, less the 422 it lists everywhere: invalid
    input is a 400 (:func:`docret.serve.handlers.invalid`)."""
    original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original_openapi()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""``docret serve``: a local web page and JSON API over one index.

Needs the ``serve`` extra (FastAPI, uvicorn, Jinja2): ``pip install 'docret[serve]'``.
:func:`create_app` builds the application (for tests and other ASGI servers); :func:`serve`
runs it with uvicorn.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

INSTALL_HINT = "docret serve needs the web extra: pip install 'docret[serve]'"
# uvicorn drops a request line longer than this before the application sees it; a little above
# the application's own limit, so that an oversized query string gets the application's 413.
MAX_HEADER_BYTES = 48 * 1024


def require() -> None:
    """Raise ImportError with :data:`INSTALL_HINT` when the web extra is not installed."""
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e.name} is missing)") from None


def create_app(db: str | Path, *, allow_writes: bool = False) -> FastAPI:
    """The web application over the index in ``db``; see :mod:`docret.serve.app`."""
    require()
    from docret.serve.app import create_app as create

    return create(db, allow_writes=allow_writes)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    db: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    allow_writes: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Check that ``db`` opens, then serve it until interrupted.

    ``on_ready(url)`` is called once the server accepts connections.
    """
    require()
    import uvicorn

    from docret.serve.app import create_app as create

    app = create(db, allow_writes=allow_writes)
    app.state.served.check()  # a missing or foreign database fails here, before listening
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        original_startup = server.startup

        async def startup(sockets=None) -> None:
            await original_startup(sockets)
            if server.started:
                bound = server.servers[0].sockets[0].getsockname()[1]  # --port 0: the one given
                shown = f"[{host}]" if ":" in host else host
                on_ready(f"http://{shown}:{bound}/")

        server.startup = startup  # type: ignore[method-assign]
    server.run()

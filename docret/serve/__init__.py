"""``docret serve``: a local web page and JSON API over one index.

Needs the ``serve`` extra (FastAPI, uvicorn, Jinja2): ``pip install 'docret[serve]'``.
:func:`create_app` builds the application (for tests and other ASGI servers); :func:`serve`
runs it with uvicorn.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

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


def create_app(
    db: str | Path,
    *,
    allow_writes: bool = False,
    allowed_hosts: Iterable[str] = (),
    token: str | None = None,
) -> FastAPI:
    """The web application over the index in ``db``; see :mod:`docret.serve.app`.

    It answers only requests whose Host is a loopback name or one of ``allowed_hosts``; with
    ``token``, only requests that carry it.
    """
    require()
    from docret.serve.app import create_app as create

    return create(db, allow_writes=allow_writes, allowed_hosts=allowed_hosts, token=token)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Raise :class:`~docret.errors.DocretError` when ``host:port`` cannot be listened on
    (before the server starts, so that the message says which port and what to do)."""
    from docret.errors import DocretError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise DocretError(f"Cannot listen on {host}: {e.strerror or e}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise DocretError(f"Port {port} is in use; choose another with --port") from None
            raise DocretError(f"Cannot listen on {host}:{port}: {e.strerror or e}") from None


def serve(
    db: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    allow_writes: bool = False,
    allowed_hosts: Iterable[str] = (),
    token: str | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Check that ``db`` opens and the port is free, then serve it until interrupted.

    Listening on an address other than loopback needs a ``token``: the index would otherwise
    be open to every machine that reaches this one. ``on_ready(url)`` is called once the
    server accepts connections (with the token in the address when there is one).
    """
    from docret.errors import DocretError

    require()
    if not is_loopback(host) and not token:
        raise DocretError(
            f"Listening on {host} opens the index to other machines: give a token with "
            "--token (or DOCRET_TOKEN), which every request must then carry"
        )
    import uvicorn

    from docret.serve.app import create_app as create

    app = create(
        db,
        allow_writes=allow_writes,
        allowed_hosts=allowed_hosts,
        bound=host,
        token=token,
    )
    app.state.served.check()  # a missing or foreign database fails here, before listening
    check_port(host, port)
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
                link = f"?token={quote(token, safe='')}" if token else ""
                on_ready(f"http://{shown}:{bound}/{link}")

        server.startup = startup  # type: ignore[method-assign]
    server.run()

"""``serve``: the web page and JSON API over the database."""

from __future__ import annotations

import re

import click

from docret.cli import render
from docret.cli.commands import database, friendly_errors
from docret.cli.options import database_option


def _check_token(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A token that fits a header and a cookie as it is: letters, digits and ``-._~+/=``."""
    if value is None or value == "":
        return None
    if not re.fullmatch(r"[A-Za-z0-9._~+/=-]{8,512}", value):
        raise click.BadParameter(
            "use 8 to 512 letters, digits or - . _ ~ + / = (e.g. python -c "
            "'import secrets; print(secrets.token_urlsafe())')"
        )
    return value


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser")
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Add POST /api/documents and DELETE /api/documents/{id} (read-only without it)",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests addressed to this host name (repeatable; loopback names and "
    "the --host address always are)",
)
@click.option(
    "--token",
    envvar="DOCRET_TOKEN",
    callback=_check_token,
    help="Every request must carry this token (Authorization: Bearer, or open the page once "
    "with ?token=); needed for a --host other than loopback [env: DOCRET_TOKEN]",
)
@database_option
@click.pass_context
@friendly_errors
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    open_browser: bool,
    allow_writes: bool,
    allowed_hosts: tuple[str, ...],
    token: str | None,
) -> None:
    """A local web page and JSON API: search, compare, explain, documents, map, info.

    The index is reopened when another process rebuilds or adds to the database. The JSON
    API is described at /openapi.json. Only requests addressed to this machine's loopback
    names, the --host address or an --allowed-host are answered. Needs the web extra:
    pip install 'docret[serve]'.
    """
    from docret import serve as web

    err = render.stderr()

    def ready(url: str) -> None:
        from rich.markup import escape

        name = escape(database(ctx))
        err.print(f"[green]docret serve[/] {name} at [bold]{escape(url)}[/] (Ctrl+C stops)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        web.serve(
            database(ctx),
            host,
            port,
            allow_writes=allow_writes,
            allowed_hosts=allowed_hosts,
            token=token,
            on_ready=ready,
        )
    except ImportError as e:
        raise click.ClickException(str(e)) from None

"""The commands, one module per subject, and what every command shares: one-line errors and
opening the index named by ``-d/--database``."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

import click

from docret.errors import DocretError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C


def friendly_errors(f: Callable) -> Callable:
    """Turn docret's expected errors into ``click.ClickException`` (one line, exit code 1) and
    Ctrl-C into one line and exit code 130."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except DocretError as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted: the database was left as it was", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except sqlite3.Error as e:  # store: a damaged, read-only or busy database: one line
            from docret.store import user_error

            ctx = click.get_current_context(silent=True)
            database = (ctx.find_root().obj or {}).get("database", "") if ctx else ""
            error = user_error(e, database or "the database")
            if error is None:
                raise
            raise click.ClickException(str(error)) from None

    return wrapper


def database(ctx: click.Context) -> str:
    """The database the command works on (``-d/--database``, before or after its name)."""
    return ctx.obj["database"]


def open_index(ctx: click.Context, writes: bool = False):
    """The index of the command's database, read as one committed state throughout."""
    from docret.index import Index

    # A command that only reads opens the file read-only: it leaves it exactly as it was.
    idx = Index.open(database(ctx), readonly=not writes)
    idx.store.hold_snapshot()  # store: the command reads one committed state throughout
    return idx

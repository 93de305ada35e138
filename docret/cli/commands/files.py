"""Back to the file: ``open``."""

from __future__ import annotations

import click

from docret.cli.commands import friendly_errors, open_index
from docret.cli.options import database_option


@click.command(name="open")
@click.argument("doc_id")
@click.option("--print", "print_only", is_flag=True, help="Print the file's path, do not open it")
@database_option
@click.pass_context
@friendly_errors
def open_command(ctx: click.Context, doc_id: str, print_only: bool) -> None:
    """Open the file stored document DOC_ID was read from, with the system's viewer.

    Only a document read from a file of its own that is still inside the folder it was
    indexed from has one (not a record of a JSON Lines or CSV file, a mailbox message or a
    text added through the API). An id that starts with '-' goes after '--'.
    """
    from docret.originals import file_to_open

    with open_index(ctx) as idx:
        path = file_to_open(idx, doc_id)
    if print_only:
        click.echo(str(path))
    elif click.launch(str(path)) != 0:
        raise click.ClickException(f"The system's viewer could not open {path}")

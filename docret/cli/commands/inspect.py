"""Looking into an index: ``info``, ``words``, ``map`` and ``check``."""

from __future__ import annotations

from pathlib import Path

import click

from docret.cli import render
from docret.cli.commands import database, friendly_errors, open_index
from docret.cli.options import database_option, image_file, json_option, limit_option
from docret.defaults import WORDS_LIMIT


@click.command()
@json_option("JSON instead of text")
@database_option
@click.pass_context
@friendly_errors
def info(ctx: click.Context, as_json: bool) -> None:
    """What the index holds: documents, vocabulary, labels, model and training."""
    with open_index(ctx) as idx:
        data = idx.info()
    if as_json:
        render.echo_json(data)
    else:
        render.info(data)


@click.command()
@click.argument("doc_id")
@limit_option(WORDS_LIMIT)
@json_option()
@database_option
@click.pass_context
@friendly_errors
def words(ctx: click.Context, doc_id: str, k: int, as_json: bool) -> None:
    """The words the code of stored document DOC_ID stands for, by weight.

    An id that starts with '-' goes after '--': docret words -- -draft.txt
    """
    with open_index(ctx) as idx:
        found = idx.words(doc_id, k)
        title = idx.document(doc_id).title
    title = f"What the code of {render.shown(doc_id)} ({render.shown(title)}) stands for"
    render.words(title, found, as_json)


@click.command(name="map")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    callback=image_file,
    help="Image to write: .png, .pdf or .svg",
)
@click.option("--compare-lsa", is_flag=True, help="Draw LSA's 2-D map beside it")
@database_option
@click.pass_context
@friendly_errors
def map_command(ctx: click.Context, out: str, compare_lsa: bool) -> None:
    """Draw every document in 2-D, coloured by label (needs matplotlib).

    Positions are the stored codes projected onto their first two principal components.
    """
    with open_index(ctx) as idx:
        try:
            xy = idx.map(out, compare_lsa=compare_lsa)
        except ImportError:
            raise click.ClickException("map needs matplotlib: pip install 'docret[plot]'") from None
        except OSError as e:
            raise click.ClickException(f"Cannot write {out}: {e.strerror or e}") from None
    render.stderr().print(f"[green]Wrote {out}[/] ({len(xy):,} documents)")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text")
@database_option
@click.pass_context
@friendly_errors
def check(ctx: click.Context, as_json: bool) -> None:
    """Check the database: SQLite's integrity check, then docret's own consistency (every
    document has a vector and a code of the current model, counts agree). Exit code 1 if
    anything is wrong; nothing is written."""
    from docret.errors import DatabaseError
    from docret.store import CheckReport, Store

    db = database(ctx)
    try:
        store = Store.open(db, readonly=True)
    except DatabaseError as e:
        if not Path(db).is_file():
            raise
        report = CheckReport(db, [str(e)])
    else:
        with store:
            report = store.check()
    render.check_report(db, report, as_json)
    if not report.ok:
        ctx.exit(1)

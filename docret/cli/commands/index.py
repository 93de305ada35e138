"""Writing an index: ``index``, ``add``, ``remove`` and ``retrain``."""

from __future__ import annotations

from typing import Any

import click

from docret.cli import render
from docret.cli.commands import database, friendly_errors, open_index
from docret.cli.options import (
    BINARY_OPTION,
    database_option,
    given_settings,
    glob_patterns,
    json_option,
    model_options,
    reader_options,
    settings_as_options,
    settings_together,
)
from docret.errors import SettingError


@click.command()
@click.argument("path", type=click.Path())
@click.option(
    "--glob",
    "globs",
    multiple=True,
    callback=glob_patterns,
    help="File name pattern for folders (repeatable; default: every file docret reads)",
)
@reader_options
@model_options
@BINARY_OPTION
@click.option(
    "--retrain",
    is_flag=True,
    help="Learn a new model even if the database already indexes PATH (from its stored "
    "settings and the options given)",
)
@json_option("a JSON report instead of text")
@database_option
@click.pass_context
@friendly_errors
def index(
    ctx: click.Context,
    path: str,
    globs: tuple[str, ...],
    as_json: bool,
    binary_bits: int | None,
    retrain: bool,
    read_options: Any,
    **options: Any,
) -> None:
    """Read PATH, learn the autoencoder, and store documents and codes in the database.

    PATH is a folder (searched recursively; files one folder deep get that folder's name as
    their label) or a single file: text, Markdown, PDF, HTML, Word, OpenDocument, EPUB, RTF,
    e-mail (.eml, mbox), or a collection (.jsonl/.jsonl.gz of {"id", "text", "labels"}, CSV).
    The previous index in the database is replaced only once the new one is complete.
    Run again on the same PATH, it only encodes new and changed documents and drops those
    whose files are gone, with the stored model; --retrain learns a new one, starting from the
    stored model's settings and changing only the options given, and keeps the documents
    added from other paths.
    """
    from docret.index import Index
    from docret.update import UPDATE, SyncPlan

    settings = given_settings(ctx, options, binary_bits)
    settings_together(settings)
    db = database(ctx)
    err = render.stderr()
    skip_lines = render.SkipLines(err)
    planned: list[SyncPlan] = []

    def on_plan(plan: SyncPlan) -> None:
        planned.append(plan)
        if plan.ignored:
            render.ignored_settings(err, plan.ignored, db, path)
        skip_lines.capped = plan.action != UPDATE  # an update lists every skipped file

    bars = render.ProgressBars(err, as_json)
    try:
        with settings_as_options():  # the stored settings and those given, merged
            report = Index.sync(
                path,
                db,
                retrain=retrain,
                globs=globs or None,
                on_skip=skip_lines,
                on_plan=on_plan,
                progress=bars,
                read_options=read_options,
                **settings,
            )
    finally:
        if planned:  # refused before the plan (settings, database): no progress was shown
            bars.stop()
    skip_lines.finish()
    if as_json:
        render.echo_json(report.to_dict())
    elif report.updated is not None:
        render.add_report(err, report.updated)
    else:
        render.build_report(err, db, report.built)


@click.command()
@click.argument("path", type=click.Path())
@click.option(
    "--glob",
    "globs",
    multiple=True,
    callback=glob_patterns,
    help="File name pattern for folders (repeatable)",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace stored documents that have the same id but were read from another path",
)
@reader_options
@json_option("a JSON report instead of text")
@database_option
@click.pass_context
@friendly_errors
def add(
    ctx: click.Context,
    path: str,
    globs: tuple[str, ...],
    replace: bool,
    as_json: bool,
    read_options: Any,
) -> None:
    """Add new or changed documents from PATH, encoded with the stored model (no retraining).

    Documents whose text is unchanged (same id, same content hash) are skipped. Read PATH as
    for 'docret index'. An id names one document: a document whose id is already stored from
    another path is refused (nothing is added) unless --replace.
    """
    err = render.stderr()
    bars = render.ProgressBars(err, as_json)
    with open_index(ctx, writes=True) as idx:
        try:
            report = idx.add(
                path,
                globs=globs or None,
                on_skip=render.SkipLines(err),
                replace=replace,
                progress=bars,
                read_options=read_options,
            )
        finally:
            bars.stop()
    if as_json:
        render.echo_json(report.to_dict())
    else:
        render.add_report(err, report)


@click.command()
@click.argument("ids", nargs=-1, required=True)
@json_option("a JSON report instead of text")
@database_option
@click.pass_context
@friendly_errors
def remove(ctx: click.Context, ids: tuple[str, ...], as_json: bool) -> None:
    """Remove documents by id (all or none: an unknown id removes nothing).

    An id that starts with '-' goes after '--': docret remove -- -draft.txt
    """
    with open_index(ctx, writes=True) as idx:
        n = idx.remove(list(ids))
    if as_json:
        render.echo_json({"removed": n})
    else:
        render.stderr().print(f"[green]Removed {n:,} documents[/]")


@click.command()
@model_options
@BINARY_OPTION
@json_option("a JSON report instead of text")
@database_option
@click.pass_context
@friendly_errors
def retrain(ctx: click.Context, as_json: bool, binary_bits: int | None, **options: Any) -> None:
    """Learn a new vocabulary and model from every stored document and re-encode them all.

    Starts from the settings the stored model was made with and changes only the options
    given (a binary index stays binary unless --binary 0). One transaction: if it fails or is
    interrupted, the old model and codes stay.
    """
    settings = given_settings(ctx, options, binary_bits)
    bars = render.ProgressBars(render.stderr(), as_json)
    with open_index(ctx, writes=True) as idx, settings_as_options():
        try:
            report = idx.retrain(progress=bars, **settings)
        except SettingError:  # the stored settings and those given do not fit together:
            raise  # refused before anything was read, no progress was shown
        except BaseException:
            bars.stop()
            raise
        bars.stop()
    render.retrain_report(report, as_json)

"""The ``docret`` command line: parse options, call :class:`~docret.index.Index`, render.

Nothing heavy is imported at module level, so ``docret --help`` starts fast; ``index`` is the
only command that loads torch and scikit-learn. Tables and progress are drawn with rich
(progress on stderr); ``--json`` prints machine-readable output on stdout.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from docret import __version__
from docret.defaults import (
    ACTIVATIONS,
    DATABASE,
    DEFAULTS,
    FIRST_LAYER_STARTS,
    LIMIT,
    WORDS_LIMIT,
    Defaults,
    check_setting,
    check_settings,
)
from docret.errors import DocretError, SettingError, clipped, listing
from docret.progress import Progress
from docret.rank import METHODS, help_text

DB_OPTION_HELP = "SQLite file of the index (env: DOCRET_DB)"
MAX_SKIP_LINES = 20  # beyond this the summary line carries the count
IMAGE_SUFFIXES = (".png", ".pdf", ".svg")  # what map and evaluate --plot can write
MAX_QUERY_SHOWN = 200  # characters of the query a result table's title repeats
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _stdout():
    from rich.console import Console

    return Console(highlight=False)


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


def shown(text: str) -> str:
    """``text`` as a table cell: control and direction characters escaped (a newline or a
    right-to-left override in an id would break the row) and rich markup taken literally."""
    from rich.markup import escape

    return escape(
        "".join(
            c.encode("unicode_escape").decode("ascii")
            if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
            else c
            for c in text
        )
    )


def _number(value: str) -> int | float:
    """``2`` -> 2 (a document count), ``0.5`` -> 0.5 (a fraction), as scikit-learn reads them."""
    try:
        return int(value)
    except ValueError:
        return float(value)


def _layer_sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("give widths separated by commas, e.g. 500,250,125") from None
    if not sizes or any(s < 1 for s in sizes):
        raise click.BadParameter("widths must be positive integers, e.g. 500,250,125")
    return _bounded(ctx, param, sizes)


def _df(ctx: click.Context, param: click.Parameter, value: str) -> int | float:
    expected = "a document count of at least 1 (e.g. 2) or a fraction from 0 to 1 (e.g. 0.5)"
    try:
        number = _number(value)
    except ValueError:
        raise click.BadParameter(expected) from None
    count_ok = isinstance(number, int) and number >= 1
    fraction_ok = isinstance(number, float) and 0.0 <= number <= 1.0
    if not (count_ok or fraction_ok):
        raise click.BadParameter(expected)
    return _bounded(ctx, param, number)


def _bounded(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A model setting checked against its bounds in docret.defaults, where the Python API
    checks it too: NaN, infinities and absurd sizes are refused before anything is read."""
    return _within_bounds(str(param.name), value)


def _within_bounds(name: str, value: Any) -> Any:
    """``value`` of the setting ``name`` if within its bounds; else a bad option (exit 2)."""
    try:
        return check_setting(name, value)
    except SettingError as e:
        raise click.BadParameter(str(e)) from None


def _settings_together(settings: dict[str, Any]) -> None:
    """Settings that must fit together (a vocabulary wider than the code), refused as a bad
    option (exit 2) naming the option, before anything is read."""
    try:
        check_settings(settings)
    except SettingError as e:
        option = "'--" + e.setting.replace("_", "-") + "'"
        raise click.BadParameter(str(e), param_hint=option) from None


def _device(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value == DEFAULTS.device:
        return value
    from docret.encoder import check_device

    try:
        return check_device(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _image(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A file name to draw into, checked before any work: matplotlib picks the format from
    the suffix, and fails only after the drawing."""
    if value is None:
        return None
    name = Path(value).name
    if not name or name.startswith(".") and not Path(name).suffix:
        raise click.BadParameter("give a file name, e.g. map.png")
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        raise click.BadParameter(
            f"{value!r}: the name must end in "
            + ", ".join(IMAGE_SUFFIXES[:-1])
            + f" or {IMAGE_SUFFIXES[-1]}"
        )
    return value


def _setting(name: str, *decls: str, **kwargs: Any) -> Callable:
    """A click option for the model setting ``name``: default and help from docret.defaults."""
    default = getattr(DEFAULTS, name)
    if name == "hidden":
        default = ",".join(map(str, default))
    elif name in ("min_df", "max_df"):
        default = str(default)
    flag = "--" + name.replace("_", "-")
    return click.option(
        *(decls or (flag,)),
        name,
        default=default,
        show_default=True,
        help=Defaults.help(name),
        **kwargs,
    )


_MODEL_OPTIONS = [
    _setting("code_size", type=int, callback=_bounded),
    _setting("hidden", callback=_layer_sizes),
    _setting("activation", type=click.Choice(ACTIVATIONS)),
    _setting("vocab_size", type=int, callback=_bounded),
    _setting("min_df", callback=_df),
    _setting("max_df", callback=_df),
    _setting("epochs", type=int, callback=_bounded),
    _setting("patience", type=int, callback=_bounded),
    _setting("batch_size", type=int, callback=_bounded),
    _setting("negatives", type=int, callback=_bounded),
    _setting("lr", type=float, callback=_bounded),
    _setting("noise", type=float, callback=_bounded),
    _setting("code_l2", type=float, callback=_bounded),
    _setting("pretrain", "--pretrain/--no-pretrain"),
    _setting("first_layer", type=click.Choice(FIRST_LAYER_STARTS)),
    _setting("query_fraction", type=float, callback=_bounded),
    _setting("lsa_dims", type=int, callback=_bounded),
    _setting("seed", type=int, callback=_bounded),
    _setting("device", callback=_device),
    _setting("threads", type=int, callback=_bounded),
]


def model_options(f: Callable) -> Callable:
    """The options that shape and train the model, shared by ``index``, ``retrain`` and
    ``evaluate``."""
    for option in reversed(_MODEL_OPTIONS):
        f = option(f)
    return f


# -- reading options (formats helper, issue 15): one block, applied to index and add ---------
_READER_OPTIONS = [
    click.option(
        "--text-field",
        "text_fields",
        multiple=True,
        help="JSON lines/CSV: field holding the text (repeatable: joined; default text)",
    ),
    click.option("--title-field", help="JSON lines/CSV: field holding the title (default title)"),
    click.option(
        "--id-field", help="JSON lines/CSV: field holding the id (default id; CSV: row number)"
    ),
    click.option(
        "--label-field", help="JSON lines/CSV: field holding the labels (default labels or label)"
    ),
    click.option(
        "--split",
        "split_by",
        type=click.Choice(["none", "pages"]),
        default="none",
        show_default=True,
        help="PDFs: one document per page, ids like paper.pdf#p3",
    ),
    click.option(
        "--follow-links",
        is_flag=True,
        help="Follow symbolic links that lead out of the folder (not followed by default)",
    ),
    click.option(
        "--strict",
        is_flag=True,
        help="Fail, writing nothing, if any file, message or line is skipped",
    ),
]


def reader_options(f: Callable) -> Callable:
    """The options of how files are read, passed to ``f`` as one ``read_options`` argument."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        text_fields: tuple[str, ...],
        title_field: str | None,
        id_field: str | None,
        label_field: str | None,
        split_by: str,
        follow_links: bool,
        strict: bool,
        **kwargs: Any,
    ) -> Any:
        from docret.readers.base import ReadOptions

        options = ReadOptions(
            text_fields=tuple(text_fields),
            title_field=title_field,
            id_field=id_field,
            label_field=label_field,
            split_pages=split_by == "pages",
            follow_links=follow_links,
            strict=strict,
        )
        return f(*args, read_options=options, **kwargs)

    for option in reversed(_READER_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def _globs(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from docret.corpus import check_globs

    try:
        check_globs(value)
    except DocretError as e:
        raise click.BadParameter(str(e)) from None
    return value


def _bits(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """``--binary N``: 0 (float codes) or a code size within its bounds."""
    return _within_bounds("code_size", value) if value else value


BINARY_OPTION = click.option(
    "--binary",
    "binary_bits",
    type=click.IntRange(0),
    callback=_bits,
    help="Semantic hashing: learn binary codes of this many bits (replaces --code-size; "
    "0: float codes)",
)


def _database_after(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.obj["database"] = value


def database_option(f: Callable) -> Callable:
    """``-d/--database`` after the command name too (``docret query foo -d x.db``)."""
    return click.option(
        "-d",
        "--database",
        expose_value=False,
        type=click.Path(dir_okay=False),
        callback=_database_after,
        help=f"{DB_OPTION_HELP}, as before the command [default: {DATABASE}]",
    )(f)


def json_option(what: str = "JSON instead of a table") -> Callable:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what}")


def limit_option(default: int = LIMIT) -> Callable:
    """``-k/--limit``: how many results."""
    return click.option(
        "-k",
        "--limit",
        "k",
        default=default,
        show_default=True,
        type=click.IntRange(1),
        help="How many results",
    )


def _given_settings(
    ctx: click.Context, options: dict[str, Any], binary_bits: int | None
) -> dict[str, Any]:
    """The model settings the user typed (defaults left out), ``--binary N`` folded in."""
    given = {
        name: value
        for name, value in options.items()
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    }
    if binary_bits is not None:
        given["binary"] = bool(binary_bits)
        if binary_bits:
            given["code_size"] = binary_bits
    return given


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docret")
@click.option(
    "-d",
    "--database",
    default=DATABASE,
    show_default=True,
    envvar="DOCRET_DB",
    type=click.Path(dir_okay=False),
    help=DB_OPTION_HELP,
)
@click.pass_context
def cli(ctx: click.Context, database: str) -> None:
    """Semantic search over your own documents, with codes learned from the corpus itself.

    \b
    docret index corpora/sample
    docret query "engine failure on takeoff"
    docret query "engine failure on takeoff" --compare
    """
    ctx.obj = {"database": database}


@cli.command()
@click.argument("path", type=click.Path())
@click.option(
    "--glob",
    "globs",
    multiple=True,
    callback=_globs,
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

    settings = _given_settings(ctx, options, binary_bits)
    _settings_together(settings)
    database = ctx.obj["database"]
    existing = Index.existing_for(database, path)
    if existing is not None and not retrain:
        stored = existing.settings()
        ignored = [name for name, value in settings.items() if stored.get(name) != value]
        if ignored:
            _stderr().print(
                "[yellow]Ignored "
                + ", ".join("--" + name.replace("_", "-") for name in ignored)
                + f": {shown(database)} already indexes {shown(path)}; updating it keeps the "
                "stored model. Add --retrain to learn a new model with them.[/]"
            )
        _update(existing, path, globs, as_json, read_options=read_options)
        return
    if existing is not None:
        settings = {**existing.settings(), **settings}
        existing.close()
        _settings_together(settings)
    err = _stderr()
    skipped_lines = 0

    def on_skip(item) -> None:
        nonlocal skipped_lines
        skipped_lines += 1
        if skipped_lines <= MAX_SKIP_LINES:
            err.print(f"[yellow]Skipped[/] {shown(item.source)}: {shown(item.message)}")

    bars = _ProgressBars(err, as_json)
    try:
        built = Index.build(
            path,
            database,
            globs=globs or None,
            on_skip=on_skip,
            progress=bars,
            read_options=read_options,
            **settings,
        )
    finally:
        bars.stop()
    report = built.last_build
    built.close()
    if skipped_lines > MAX_SKIP_LINES:
        err.print(f"[yellow]… and {skipped_lines - MAX_SKIP_LINES} more skipped[/]")
    reasons: dict[str, int] = {}
    for s in report.skipped:
        reasons[s.reason] = reasons.get(s.reason, 0) + 1
    if as_json:
        click.echo(
            json.dumps(
                {
                    "database": database,
                    "documents": report.documents,
                    "skipped": len(report.skipped),
                    "skipped_reasons": reasons,
                    "vocabulary": report.vocabulary,
                    "epochs": report.epochs,
                    "final_loss": report.final_loss,
                    "final_val_loss": report.final_val_loss,
                    "seconds": round(report.seconds, 2),
                    "kept_from_other_paths": report.kept_others,
                    "kept_unread": report.kept_unread,
                }
            )
        )
        return
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
    err.print(
        f"[green]Indexed {report.documents:,} documents[/] into {shown(database)} "
        f"({report.vocabulary:,} terms, {report.epochs} epochs, {report.seconds:.1f} s)"
        + (f"; skipped {len(report.skipped):,} ({shown(why)})" if report.skipped else "")
    )
    if report.kept_others:
        err.print(f"Kept {report.kept_others:,} stored documents added from other paths")
    if report.kept_unread:
        err.print(
            f"[yellow]Kept {report.kept_unread:,} stored documents whose files were not read "
            "again (skipped, or not matching --glob)[/]"
        )


class _ProgressBars(Progress):
    """Rich progress bars on stderr: a count and an estimate for reading, vocabulary,
    training (with loss and held-out loss) and writing, plus a line per stage."""

    def __init__(self, err, quiet: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bars

        self.quiet = quiet
        self.bars = Bars(
            TextColumn("[bold]{task.description}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeRemainingColumn(),
            console=err,
            disable=quiet and not err.is_terminal,
        )
        self.tasks: dict[str, Any] = {}

    def stage(self, message: str) -> None:
        if not self.quiet:
            self.bars.console.print(f"[dim]{shown(message)}…[/]")

    def step(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.bars.start()
            self.tasks[stage] = self.bars.add_task(stage, total=total, extra="")
        self.bars.update(self.tasks[stage], completed=done, total=total)

    def epoch(self, stats, total: int) -> None:
        held_out = "-" if stats.val_loss is None else f"{stats.val_loss:.4f}"
        self.step("Training (epochs)", stats.epoch, total)
        self.bars.update(
            self.tasks["Training (epochs)"], extra=f"loss {stats.loss:.4f}  held-out {held_out}"
        )

    def stop(self) -> None:
        self.bars.stop()


@cli.command()
@click.argument("path", type=click.Path())
@click.option(
    "--glob",
    "globs",
    multiple=True,
    callback=_globs,
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
    with _open(ctx, writes=True) as idx:
        _update(
            idx,
            path,
            globs,
            as_json,
            remove_missing=False,
            replace=replace,
            read_options=read_options,
        )


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@json_option("a JSON report instead of text")
@database_option
@click.pass_context
@friendly_errors
def remove(ctx: click.Context, ids: tuple[str, ...], as_json: bool) -> None:
    """Remove documents by id (all or none: an unknown id removes nothing).

    An id that starts with '-' goes after '--': docret remove -- -draft.txt
    """
    with _open(ctx, writes=True) as idx:
        n = idx.remove(list(ids))
    if as_json:
        click.echo(json.dumps({"removed": n}))
    else:
        _stderr().print(f"[green]Removed {n:,} documents[/]")


def _update(
    idx,
    path: str,
    globs: tuple[str, ...],
    as_json: bool,
    remove_missing: bool = True,
    replace: bool = False,
    read_options: Any = None,
) -> None:
    """Add new and changed documents (and drop vanished ones) with the stored model; report."""
    err = _stderr()
    bars = _ProgressBars(err, as_json)

    def on_skip(item) -> None:
        err.print(f"[yellow]Skipped[/] {shown(item.source)}: {shown(item.message)}")

    try:
        report = idx.add(
            path,
            globs=globs or None,
            on_skip=on_skip,
            remove_missing=remove_missing,
            replace=replace,
            progress=bars,
            read_options=read_options,
        )
    finally:
        bars.stop()
        idx.close()
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return
    err.print(
        f"[green]Added {len(report.added):,}, updated {len(report.updated):,}, "
        f"removed {len(report.removed):,}[/], unchanged {report.unchanged:,}, "
        f"skipped {len(report.skipped):,} (stored model kept)"
    )
    if report.kept:
        err.print(
            f"[yellow]Kept {len(report.kept):,} stored documents whose files could not be read[/]"
        )
    if report.added or report.updated:
        err.print(f"{report.unknown_share:.0%} of their words are outside the vocabulary")
    if report.retrain_advised:
        err.print(
            "[yellow]Many words are unknown to the model: 'docret retrain' would describe "
            "these documents better.[/]"
        )


@cli.command()
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
    settings = _given_settings(ctx, options, binary_bits)
    bars = _ProgressBars(_stderr(), as_json)
    with _open(ctx, writes=True) as idx:
        _settings_together({**idx.settings(), **settings})
        try:
            report = idx.retrain(progress=bars, **settings)
        finally:
            bars.stop()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "documents": report.documents,
                    "vocabulary": report.vocabulary,
                    "epochs": report.epochs,
                    "seconds": round(report.seconds, 2),
                }
            )
        )
    else:
        _stderr().print(
            f"[green]Retrained on {report.documents:,} documents[/] ({report.vocabulary:,} "
            f"terms, {report.epochs} epochs, {report.seconds:.1f} s)"
        )


def _open(ctx: click.Context, writes: bool = False):
    from docret.index import Index

    # A command that only reads opens the file read-only: it leaves it exactly as it was.
    idx = Index.open(ctx.obj["database"], readonly=not writes)
    idx.store.hold_snapshot()  # store: the command reads one committed state throughout
    return idx


@cli.command()
@click.argument("text")
@limit_option()
@click.option(
    "--method",
    type=click.Choice(tuple(METHODS)),
    help=help_text(),
)
@click.option("--compare", is_flag=True, help="Show the ranking beside BM25's")
@click.option(
    "--explain",
    "explain_hits",
    is_flag=True,
    help="Show for each hit the words its code and the query's code share",
)
@click.option(
    "--rerank",
    type=click.IntRange(1),
    help="Binary codes: take this many by Hamming distance, re-order them by the cosine of "
    "the code logits plus tf-idf cosine",
)
@click.option("--hybrid", is_flag=True, help="Same as --method hybrid")
@json_option()
@database_option
@click.pass_context
@friendly_errors
def query(
    ctx: click.Context,
    text: str,
    k: int,
    compare: bool,
    explain_hits: bool,
    method: str | None,
    rerank: int | None,
    hybrid: bool,
    as_json: bool,
) -> None:
    """Rank documents for TEXT: by default BM25 fused with the learned codes and LSA (see
    --method)."""
    if hybrid and method not in (None, "hybrid"):
        raise click.ClickException(f"--hybrid contradicts --method {method}")
    method = "hybrid" if hybrid else method
    with _open(ctx) as idx:
        if compare:
            result = idx.compare(text, k, rerank, method=method)
            if as_json:
                click.echo(json.dumps({"query": text, **result.to_dict()}))
            else:
                _print_comparison(text, result, idx.default_ranking())
            return
        hits = idx.query(text, k, rerank, method=method)
        title = METHODS[method or "default"].title or idx.default_ranking()
        unknown = idx.unknown_words(text)
        shared = [idx.shared_words(text, h.id) for h in hits] if explain_hits else None
        query_words = [w for w, _ in idx.explain(text, 10)] if explain_hits else []
    if as_json:
        rows = [h.to_dict() for h in hits]
        if shared is not None:
            for row, words in zip(rows, shared, strict=True):
                row["shared_words"] = [w for w, _ in words]
        click.echo(json.dumps(rows))
    else:
        _print_hits(f"{title}: {shown(clipped(text, MAX_QUERY_SHOWN))}", hits, shared)
        if query_words:
            _stdout().print(f"The query's code stands for: {', '.join(query_words)}")
        if unknown:
            _stderr().print(f"[dim]In no indexed document, ignored: {shown(listing(unknown))}[/]")


@cli.command()
@click.argument("doc_id")
@limit_option()
@json_option()
@database_option
@click.pass_context
@friendly_errors
def similar(ctx: click.Context, doc_id: str, k: int, as_json: bool) -> None:
    """Documents whose codes are closest to the stored document DOC_ID.

    An id that starts with '-' goes after '--': docret similar -- -draft.txt
    """
    with _open(ctx) as idx:
        hits = idx.similar(doc_id, k)
        title = idx.document(doc_id).title
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits]))
    else:
        _print_hits(f"Similar to {shown(doc_id)}: {shown(title)}", hits)


def _print_words(title: str, words, as_json: bool = False) -> None:
    """Word weights as JSON for scripts, or as a table titled ``title`` for people."""
    if as_json:
        click.echo(json.dumps([{"word": w, "weight": round(x, 6)} for w, x in words]))
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("word")
    table.add_column("weight", justify="right")
    for rank, (word, weight) in enumerate(words, start=1):
        table.add_row(str(rank), shown(word), f"{weight:.4f}")
    _stdout().print(table)


@cli.command()
@click.argument("text")
@limit_option(WORDS_LIMIT)
@json_option()
@database_option
@click.pass_context
@friendly_errors
def explain(ctx: click.Context, text: str, k: int, as_json: bool) -> None:
    """The words the code of TEXT stands for, decoded by the model, by weight."""
    with _open(ctx) as idx:
        words = idx.explain(text, k)
    _print_words(f"What the code of {shown(repr(text))} stands for", words, as_json)


@cli.command()
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
    with _open(ctx) as idx:
        found = idx.words(doc_id, k)
        title = idx.document(doc_id).title
    _print_words(f"What the code of {shown(doc_id)} ({shown(title)}) stands for", found, as_json)


@cli.command(name="map")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    callback=_image,
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
    with _open(ctx) as idx:
        try:
            xy = idx.map(out, compare_lsa=compare_lsa)
        except ImportError:
            raise click.ClickException("map needs matplotlib: pip install 'docret[plot]'") from None
        except OSError as e:
            raise click.ClickException(f"Cannot write {out}: {e.strerror or e}") from None
    _stderr().print(f"[green]Wrote {out}[/] ({len(xy):,} documents)")


# How `info` ends the default ranking's "chosen on N pseudo-queries" (FusionChoice.chosen_by).
_ANSWERED_BY = {
    "labels": ", answered by their documents' labels)",
    "neighbours": ", answered by their documents' nearest neighbours)",
}


@cli.command()
@json_option("JSON instead of text")
@database_option
@click.pass_context
@friendly_errors
def info(ctx: click.Context, as_json: bool) -> None:
    """What the index holds: documents, vocabulary, labels, model and training."""
    with _open(ctx) as idx:
        data = idx.info()
    if as_json:
        click.echo(json.dumps(data))
        return
    from rich.table import Table

    from docret.rank.default import SHORT_QUERY_TERMS as short_terms

    table = Table(show_header=False, box=None)
    model = data["model"]
    rows = [
        ("Database", f"{data['database']} ({data['size_bytes'] / 1e6:.1f} MB)"),
        ("Built", f"{data['built']} from {shown(str(data['source']))}"),
        ("Documents", f"{data['documents']:,}"),
        ("Vocabulary", f"{data['vocabulary']:,} terms"),
        ("Labels", shown(", ".join(f"{k} ({v})" for k, v in data["labels"].items())) or "none"),
        ("Types", ", ".join(f"{k} ({v:,})" for k, v in data["types"].items())),
        (
            "Model",
            f"{data['vocabulary']}-"
            + "-".join(str(h) for h in model["layers"])
            + f"-{model['code_size']}{' binary' if model.get('binary') else ''} "
            f"({model['activation']}, noise {model['noise']}, "
            f"code L2 {model['code_l2']}, seed {model['seed']})",
        ),
        (
            "Training",
            {True: "pre-trained, then ", False: "not pre-trained, "}.get(model["pretrained"], "")
            + f"{model['epochs_trained']} epochs, loss {model['first_loss']:.4f} -> "
            f"{model['final_loss']:.4f}"
            + (
                f", best held-out loss {model['best_val_loss']:.4f} at epoch {model['best_epoch']}"
                if model["best_val_loss"] is not None
                else ""
            ),
        ),
        (
            "Updated",
            (data["updated"] or "never since built")
            + (
                f"; {data['added_unknown_share']:.0%} of the added words are outside the "
                "vocabulary" + (": 'docret retrain' would help" if data["retrain_advised"] else "")
                if data["added_unknown_share"]
                else ""
            ),
        ),
        (
            "Ranking",
            "Hamming distance of the binary codes (--method bm25: BM25 k1 "
            f"{data['ranking']['bm25']['k1']}, b {data['ranking']['bm25']['b']})"
            if data["ranking"]["default"] == "codes"
            else f"BM25 (k1 {data['ranking']['bm25']['k1']}, b {data['ranking']['bm25']['b']}) "
            + f"+ learned codes {data['ranking']['weight']} "
            + f"+ LSA {data['ranking'].get('lsa', 0.0)} "
            + (
                f"(chosen on {data['ranking']['queries']:,} pseudo-queries"
                + _ANSWERED_BY.get(data["ranking"].get("chosen_by", ""), ")")
                if data["ranking"]["queries"]
                else "(BM25 alone: rebuild to choose the weights)"
            )
            + (
                ", then again with feedback from its top documents"
                if data["ranking"]["weight"] or data["ranking"].get("lsa")
                else ""
            ),
        ),
        *(
            [
                (
                    "Long queries",
                    f"learned codes {long['weight']} + LSA {long['lsa']} from "
                    f"{max(2 * short_terms, long['terms']):.0f} terms on (chosen on "
                    f"{long['queries']:,} pseudo-queries as long as a paragraph), moving there "
                    f"from {short_terms} terms",
                )
            ]
            if (long := data["ranking"].get("long")) and data["ranking"]["default"] != "codes"
            else []
        ),
        ("Schema", str(data["schema_version"])),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    _stdout().print(table)


@cli.command()
@click.argument("path", type=click.Path())
@model_options
@json_option("one JSON object instead of a table")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False),
    callback=_image,
    help="Write precision against documents retrieved (log axis) to this image (.png, .pdf "
    "or .svg)",
)
@click.option(
    "--lsa",
    "extra_lsa",
    multiple=True,
    type=click.IntRange(1),
    help="Also run LSA with this many dimensions (repeatable; LSA at the code size always runs)",
)
@friendly_errors
def evaluate(
    path: str, as_json: bool, plot_file: str | None, extra_lsa: tuple[int, ...], **options: Any
) -> None:
    """Compare docret with tf-idf, BM25 and LSA on a labelled corpus or a test collection.

    \b
    PATH is one of:
    - a .jsonl/.jsonl.gz whose documents carry "split": "train" or "test" and labels;
    - a folder with train/ and test/ in <label>/<file> layout (as 20 Newsgroups ships);
    - a folder with docs.jsonl[.gz], queries.jsonl and qrels.tsv (query, doc, relevance, or
      TREC's query, iteration, doc, relevance).
    Labelled corpora: every test document queries the train documents, relevant = a shared
    label (P@1, P@10, P@100, MAP@100). Test collections: MAP, nDCG@10, P@10. Metrics follow
    trec_eval (MAP@100 is map_cut_100, nDCG@10 has linear gains). The first row is docret's
    default ranking. Nothing is written to the database.
    """
    from docret.evaluate import evaluate as run_evaluation
    from docret.evaluate import load_collection, plot

    _settings_together(options)
    err = _stderr()
    collection = load_collection(path)
    if not as_json:
        err.print(
            f"[dim]{collection.name}: {len(collection.documents):,} documents, "
            f"{len(collection.queries):,} queries ({collection.protocol})"
            + (
                f"; {collection.left_out:,} without a relevant document left out, as trec_eval does"
                if collection.left_out
                else ""
            )
            + "[/]"
        )
    bars = _ProgressBars(err, as_json)
    try:
        results = run_evaluation(
            collection,
            curve=plot_file is not None,
            extra_lsa=extra_lsa,
            on_method=lambda name: bars.stage(f"Evaluating {name}"),
            progress=bars,
            **options,
        )
    finally:
        bars.stop()
    if plot_file:
        try:
            plot(results, plot_file, f"{collection.name}: precision vs documents retrieved")
        except ImportError:
            raise click.ClickException(
                "--plot needs matplotlib: pip install 'docret[plot]'"
            ) from None
        except OSError as e:
            raise click.ClickException(f"Cannot write {plot_file}: {e.strerror or e}") from None
    protocol = "label" if collection.protocol == "labels" else "qrels"
    if as_json:
        click.echo(
            json.dumps(
                {
                    "corpus": collection.name,
                    "protocol": protocol,
                    "documents": len(collection.documents),
                    "queries": len(collection.queries),
                    "queries_left_out": collection.left_out,
                    "methods": [r.to_dict() for r in results],
                }
            )
        )
        return
    from rich.table import Table

    metric_names = list(results[0].metrics)
    table = Table(title=f"{collection.name} ({protocol} protocol)", title_justify="left")
    table.add_column("method")
    for name in metric_names:
        table.add_column(name, justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("query ms", justify="right")
    best = {m: max(r.metrics[m] for r in results) for m in metric_names}
    for r in results:
        cells = [
            f"[bold]{r.metrics[m]:.3f}[/]" if r.metrics[m] == best[m] else f"{r.metrics[m]:.3f}"
            for m in metric_names
        ]
        table.add_row(r.method, *cells, f"{r.fit_seconds:.1f}", f"{r.query_ms:.2f}")
    fusion = results[0].details.get("fusion")
    if fusion:  # what the default row's index would have chosen
        bm25 = fusion.get("bm25", {})
        table.caption = (
            f"docret default: BM25 k1 {bm25.get('k1')}, b {bm25.get('b')}; "
            f"codes {fusion['weight']}, LSA {fusion.get('lsa', 0.0)} "
            f"(chosen by {fusion.get('chosen_by', 'known items')})"
        )
    _stdout().print(table)
    if plot_file:
        err.print(f"[dim]Wrote {plot_file}[/]")


def _print_hits(title: str, hits, shared=None) -> None:
    from rich.table import Table

    matched = getattr(hits, "matched", None)  # a query's ranking says how many matched
    caption = None
    if matched is not None:
        caption = f"{matched:,} match{'es' if matched != 1 else ''}" + (
            f", the first {len(hits):,} shown (-k for more)" if matched > len(hits) else ""
        )
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("id", overflow="fold")
    table.add_column("title")
    if shared is not None:
        table.add_column("shared meaning")
    table.add_column("snippet", ratio=2)
    for rank, h in enumerate(hits, start=1):
        extra = [shown(", ".join(w for w, _ in shared[rank - 1]))] if shared is not None else []
        table.add_row(
            str(rank), f"{h.score:.3f}", shown(h.id), shown(h.title), *extra, shown(h.snippet)
        )
    _stdout().print(table)


def _print_comparison(text: str, result, default: str) -> None:
    """``result`` (a Comparison) as a table; ``default`` is the default ranking's title."""
    from rich.table import Table

    both = result.both
    left, right = (METHODS[m].title or default for m in (result.method, result.baseline))
    title = f"{left} vs {right}: {shown(clipped(text, MAX_QUERY_SHOWN))}"
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column(left, ratio=1)
    table.add_column("score", justify="right")
    table.add_column(right, ratio=1)
    table.add_column("score", justify="right")

    def cell(hit) -> str:
        mark = "[bold green]● [/]" if hit.id in both else ""
        return f"{mark}{shown(hit.title)}\n[dim]{shown(hit.id)}[/]"

    for rank in range(max(len(result.hits), len(result.baseline_hits))):
        c = result.hits[rank] if rank < len(result.hits) else None
        t = result.baseline_hits[rank] if rank < len(result.baseline_hits) else None
        table.add_row(
            str(rank + 1),
            cell(c) if c else "",
            f"{c.score:.3f}" if c else "",
            cell(t) if t else "",
            f"{t.score:.3f}" if t else "",
        )
    console = _stdout()
    console.print(table)
    only = len([h for h in result.hits if h.id not in both])
    console.print(f"[bold green]●[/] found by both: {len(both)}; only by {left}: {only}")


# -- store: docret check ----------------------------------------------------------------------
@cli.command()
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

    database = ctx.obj["database"]
    try:
        store = Store.open(database, readonly=True)
    except DatabaseError as e:
        if not Path(database).is_file():
            raise
        report = CheckReport(database, [str(e)])
    else:
        with store:
            report = store.check()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "database": database,
                    "ok": report.ok,
                    "problems": report.problems,
                    "documents": report.documents,
                    "model_id": report.model_id,
                    "generation": report.generation,
                }
            )
        )
    elif report.ok:
        click.echo(
            f"OK: {database} ({report.documents:,} documents, codes of model "
            f"{report.model_id}, {report.generation:,} writes)",
            err=True,
        )
    else:
        for problem in report.problems:  # one line each, never wrapped: for people and grep
            click.echo(f"Problem: {problem}", err=True)
    if not report.ok:
        ctx.exit(1)


# -- serve (issue 14) -----------------------------------------------------------------------
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


@cli.command()
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

    err = _stderr()

    def ready(url: str) -> None:
        from rich.markup import escape

        database = escape(ctx.obj["database"])
        err.print(f"[green]docret serve[/] {database} at [bold]{escape(url)}[/] (Ctrl+C stops)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        web.serve(
            ctx.obj["database"],
            host,
            port,
            allow_writes=allow_writes,
            allowed_hosts=allowed_hosts,
            token=token,
            on_ready=ready,
        )
    except ImportError as e:
        raise click.ClickException(str(e)) from None

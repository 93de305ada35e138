"""What the commands print: tables and reports drawn with rich, progress on stderr, JSON.

Results and reports go to stdout (tables, ``--json``); progress, skipped files and summaries of
writes go to stderr, so that ``--json`` output stays machine-readable. rich is imported only
when something is drawn.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from docret.errors import clipped, listing
from docret.progress import Progress

if TYPE_CHECKING:
    from rich.text import Text

MAX_SKIP_LINES = 20  # beyond this the summary line carries the count
MAX_QUERY_SHOWN = 200  # characters of the query a result table's title repeats

# How `info` ends the default ranking's "chosen on N pseudo-queries" (FusionChoice.chosen_by).
_ANSWERED_BY = {
    "labels": ", answered by their documents' labels)",
    "neighbours": ", answered by their documents' nearest neighbours)",
}


def stderr():
    """A rich console on stderr (progress, skipped files, summaries)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout():
    """A rich console on stdout (results)."""
    from rich.console import Console

    return Console(highlight=False)


def shown(text: str) -> str:
    """``text`` as a table cell: control and direction characters escaped (a newline or a
    right-to-left override in an id would break the row) and rich markup taken literally."""
    from rich.markup import escape

    return escape(visible(text))


def visible(text: str) -> str:
    """``text`` with its control and direction characters escaped."""
    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
        else c
        for c in text
    )


def highlighted(text: str, spans: Sequence[tuple[int, int]]) -> Text:
    """``text`` as a table cell (:func:`visible`, never read as markup), the characters of
    ``spans`` in bold."""
    from rich.text import Text

    cell, at = Text(), 0
    for start, end in spans:
        cell.append(visible(text[at:start]))
        cell.append(visible(text[start:end]), style="bold")
        at = end
    cell.append(visible(text[at:]))
    return cell


def echo_json(data: Any) -> None:
    """``data`` as one line of JSON on stdout."""
    click.echo(json.dumps(data))


def query_title(title: str, text: str) -> str:
    """A result table's title: the ranking's title and the query, cut to MAX_QUERY_SHOWN."""
    return f"{title}: {shown(clipped(text, MAX_QUERY_SHOWN))}"


# -- progress and skipped files ---------------------------------------------------------------
class ProgressBars(Progress):
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


class SkipLines:
    """An ``on_skip`` that prints a line per skipped file; with ``capped``, the first
    MAX_SKIP_LINES only, and :meth:`finish` counts the rest."""

    def __init__(self, err, capped: bool = False) -> None:
        self.err, self.capped, self.count = err, capped, 0

    def __call__(self, item) -> None:
        self.count += 1
        if not self.capped or self.count <= MAX_SKIP_LINES:
            self.err.print(f"[yellow]Skipped[/] {shown(item.source)}: {shown(item.message)}")

    def finish(self) -> None:
        """Say how many were not shown."""
        if self.capped and self.count > MAX_SKIP_LINES:
            self.err.print(f"[yellow]… and {self.count - MAX_SKIP_LINES} more skipped[/]")


# -- writes -----------------------------------------------------------------------------------
def ignored_settings(err, names: Sequence[str], database: str, path: str) -> None:
    """Warn that an update does not use the settings ``names``."""
    err.print(
        "[yellow]Ignored "
        + ", ".join("--" + name.replace("_", "-") for name in names)
        + f": {shown(database)} already indexes {shown(path)}; updating it keeps the "
        "stored model. Add --retrain to learn a new model with them.[/]"
    )


def build_report(err, database: str, report) -> None:
    """What a build (``docret index``) read, skipped, learned and kept."""
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped_reasons.items()))
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


def add_report(err, report) -> None:
    """What an update (``docret add``, ``docret index`` again) added, updated and removed."""
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


def retrain_report(report, as_json: bool) -> None:
    """What ``docret retrain`` learned."""
    if as_json:
        echo_json(
            {
                "documents": report.documents,
                "vocabulary": report.vocabulary,
                "epochs": report.epochs,
                "seconds": round(report.seconds, 2),
            }
        )
    else:
        stderr().print(
            f"[green]Retrained on {report.documents:,} documents[/] ({report.vocabulary:,} "
            f"terms, {report.epochs} epochs, {report.seconds:.1f} s)"
        )


# -- results ----------------------------------------------------------------------------------
def hits(title: str, found, shared=None) -> None:
    """Ranked documents as a table; ``shared``: each hit's words shared with the query."""
    from rich.table import Table

    matched = getattr(found, "matched", None)  # a query's ranking says how many matched
    caption = None
    if matched is not None:
        caption = f"{matched:,} match{'es' if matched != 1 else ''}" + (
            f", the first {len(found):,} shown (-k for more)" if matched > len(found) else ""
        )
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("id", overflow="fold")
    table.add_column("title")
    if shared is not None:
        table.add_column("shared meaning")
    table.add_column("snippet", ratio=2)
    for rank, h in enumerate(found, start=1):
        extra = [shown(", ".join(w for w, _ in shared[rank - 1]))] if shared is not None else []
        table.add_row(
            str(rank),
            f"{h.score:.3f}",
            shown(h.id),
            shown(h.title),
            *extra,
            highlighted(h.snippet, h.highlights),
        )
    stdout().print(table)


def hits_json(found, shared=None) -> None:
    """Ranked documents as JSON, each with its ``shared_words`` where given."""
    rows = [h.to_dict() for h in found]
    if shared is not None:
        for row, words in zip(rows, shared, strict=True):
            row["shared_words"] = [w for w, _ in words]
    echo_json(rows)


def query_notes(
    query_words: Sequence[str], unknown: Sequence[str], suggestion: str | None = None
) -> None:
    """Under a result table: what the query's code stands for, its ignored words, and the
    query with them replaced by the closest known words (``suggestion``)."""
    if query_words:
        stdout().print(f"The query's code stands for: {', '.join(query_words)}")
    if unknown:
        stderr().print(f"[dim]In no indexed document, ignored: {shown(listing(unknown))}[/]")
    if suggestion:
        stderr().print(f"Did you mean: {shown(clipped(suggestion, MAX_QUERY_SHOWN))}")


def comparison(text: str, result, left: str, right: str) -> None:
    """``result`` (a Comparison) as a table; ``left`` and ``right`` title its two rankings."""
    from rich.table import Table

    both = result.both
    table = Table(title=query_title(f"{left} vs {right}", text), title_justify="left")
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
    console = stdout()
    console.print(table)
    only = len([h for h in result.hits if h.id not in both])
    console.print(f"[bold green]●[/] found by both: {len(both)}; only by {left}: {only}")


def words(title: str, weighted, as_json: bool = False) -> None:
    """Word weights as JSON for scripts, or as a table titled ``title`` for people."""
    if as_json:
        echo_json([{"word": w, "weight": round(x, 6)} for w, x in weighted])
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("word")
    table.add_column("weight", justify="right")
    for rank, (word, weight) in enumerate(weighted, start=1):
        table.add_row(str(rank), shown(word), f"{weight:.4f}")
    stdout().print(table)


# -- info -------------------------------------------------------------------------------------
def info(data: dict[str, Any]) -> None:
    """:meth:`~docret.index.Index.info` as a two-column table."""
    from rich.table import Table

    table = Table(show_header=False, box=None)
    rows = [
        ("Database", f"{data['database']} ({data['size_bytes'] / 1e6:.1f} MB)"),
        ("Built", f"{data['built']} from {shown(str(data['source']))}"),
        ("Documents", f"{data['documents']:,}"),
        ("Vocabulary", f"{data['vocabulary']:,} terms"),
        ("Labels", shown(", ".join(f"{k} ({v})" for k, v in data["labels"].items())) or "none"),
        ("Types", ", ".join(f"{k} ({v:,})" for k, v in data["types"].items())),
        ("Model", _model_row(data)),
        ("Training", _training_row(data["model"])),
        ("Updated", _updated_row(data)),
        ("Ranking", _ranking_row(data["ranking"])),
        *_long_queries_rows(data["ranking"]),
        ("Schema", str(data["schema_version"])),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    stdout().print(table)


def _model_row(data: dict[str, Any]) -> str:
    model = data["model"]
    return (
        f"{data['vocabulary']}-"
        + "-".join(str(h) for h in model["layers"])
        + f"-{model['code_size']}{' binary' if model.get('binary') else ''} "
        f"({model['activation']}, noise {model['noise']}, "
        f"code L2 {model['code_l2']}, seed {model['seed']})"
    )


def _training_row(model: dict[str, Any]) -> str:
    return (
        {True: "pre-trained, then ", False: "not pre-trained, "}.get(model["pretrained"], "")
        + f"{model['epochs_trained']} epochs, loss {model['first_loss']:.4f} -> "
        f"{model['final_loss']:.4f}"
        + (
            f", best held-out loss {model['best_val_loss']:.4f} at epoch {model['best_epoch']}"
            if model["best_val_loss"] is not None
            else ""
        )
    )


def _updated_row(data: dict[str, Any]) -> str:
    return (data["updated"] or "never since built") + (
        f"; {data['added_unknown_share']:.0%} of the added words are outside the "
        "vocabulary" + (": 'docret retrain' would help" if data["retrain_advised"] else "")
        if data["added_unknown_share"]
        else ""
    )


def _ranking_row(ranking: dict[str, Any]) -> str:
    bm25 = ranking["bm25"]
    if ranking["default"] == "codes":
        return (
            "Hamming distance of the binary codes (--method bm25: BM25 k1 "
            f"{bm25['k1']}, b {bm25['b']})"
        )
    return (
        f"BM25 (k1 {bm25['k1']}, b {bm25['b']}) "
        + f"+ learned codes {ranking['codes']} "
        + f"+ LSA {ranking.get('lsa', 0.0)} "
        + (
            f"(chosen on {ranking['queries']:,} pseudo-queries"
            + _ANSWERED_BY.get(ranking.get("chosen_by", ""), ")")
            if ranking["queries"]
            else "(BM25 alone: rebuild to choose the weights)"
        )
        + (
            ", then again with feedback from its top documents"
            if ranking["codes"] or ranking.get("lsa")
            else ""
        )
    )


def _long_queries_rows(ranking: dict[str, Any]) -> list[tuple[str, str]]:
    long = ranking.get("long")
    if not long or ranking["default"] == "codes":
        return []
    return [
        (
            "Long queries",
            f"learned codes {long['codes']} + LSA {long['lsa']} from "
            f"{ranking['long_from_terms']:.0f} terms on (chosen on "
            f"{long['queries']:,} pseudo-queries as long as a paragraph), moving there "
            f"from {ranking['short_terms']} terms",
        )
    ]


# -- evaluate ---------------------------------------------------------------------------------
def collection(err, found) -> None:
    """One line on what an evaluation runs on: its documents, queries and protocol."""
    err.print(
        f"[dim]{found.name}: {len(found.documents):,} documents, "
        f"{len(found.queries):,} queries ({found.protocol})"
        + (
            f"; {found.left_out:,} without a relevant document left out, as trec_eval does"
            if found.left_out
            else ""
        )
        + "[/]"
    )


def evaluation(summary: dict[str, Any], results, best: dict[str, float]) -> None:
    """Each method's metrics and timings, the ``best`` value of each metric in bold, and the
    weights the default ranking chose as the caption."""
    from rich.table import Table

    metric_names = list(best)
    title = f"{summary['corpus']} ({summary['protocol']} protocol)"
    table = Table(title=title, title_justify="left")
    table.add_column("method")
    for name in metric_names:
        table.add_column(name, justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("query ms", justify="right")
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
            f"codes {fusion['codes']}, LSA {fusion.get('lsa', 0.0)} "
            f"(chosen by {fusion.get('chosen_by', 'known items')})"
        )
    stdout().print(table)


# -- check ------------------------------------------------------------------------------------
def check_report(database: str, report, as_json: bool) -> None:
    """What ``docret check`` found: one line when sound, else one line per problem."""
    if as_json:
        echo_json(
            {
                "database": database,
                "ok": report.ok,
                "problems": report.problems,
                "documents": report.documents,
                "model_id": report.model_id,
                "generation": report.generation,
            }
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

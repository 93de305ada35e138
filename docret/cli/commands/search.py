"""Searching an index: ``query`` (and ``--compare``), ``similar`` and ``explain``."""

from __future__ import annotations

import click

from docret.cli import render
from docret.cli.commands import friendly_errors, open_index
from docret.cli.options import (
    METHOD_OPTION,
    database_option,
    filter_options,
    json_option,
    limit_option,
    method_title,
)
from docret.defaults import WORDS_LIMIT
from docret.filters import Filters


@click.command()
@click.argument("text")
@limit_option()
@METHOD_OPTION
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
@filter_options
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
    filters: Filters,
) -> None:
    """Rank documents for TEXT: by default BM25 fused with the learned codes and LSA (see
    --method).

    TEXT may hold "a quoted phrase" (every hit holds it), -word (no hit holds it) and
    type:, label:, path:, since:, until: filters, e.g. 'launch "space shuttle" -russia
    type:pdf since:2020'.
    """
    if hybrid and method not in (None, "hybrid"):
        raise click.ClickException(f"--hybrid contradicts --method {method}")
    method = "hybrid" if hybrid else method
    with open_index(ctx) as idx:
        if compare:
            result = idx.compare(text, k, rerank, method=method, filters=filters)
            if as_json:
                render.echo_json({"query": text, **result.to_dict()})
            else:
                default = idx.default_ranking()
                left, right = (method_title(m, default) for m in (result.method, result.baseline))
                render.comparison(text, result, left, right)
            return
        hits = idx.query(text, k, rerank, method=method, filters=filters)
        title = method_title(method, idx.default_ranking())
        unknown = idx.unknown_words(text)
        suggestion = idx.did_you_mean(text) if unknown else None
        shared = [idx.shared_words(text, h.id) for h in hits] if explain_hits else None
        query_words = [w for w, _ in idx.explain(text, 10)] if explain_hits else []
    if as_json:
        render.hits_json(hits, shared)
    else:
        render.hits(render.query_title(title, text), hits, shared)
        render.query_notes(query_words, unknown, suggestion)


@click.command()
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
    with open_index(ctx) as idx:
        hits = idx.similar(doc_id, k)
        title = idx.document(doc_id).title
    if as_json:
        render.hits_json(hits)
    else:
        render.hits(f"Similar to {render.shown(doc_id)}: {render.shown(title)}", hits)


@click.command()
@click.argument("text")
@limit_option(WORDS_LIMIT)
@json_option()
@database_option
@click.pass_context
@friendly_errors
def explain(ctx: click.Context, text: str, k: int, as_json: bool) -> None:
    """The words the code of TEXT stands for, decoded by the model, by weight."""
    with open_index(ctx) as idx:
        words = idx.explain(text, k)
    render.words(f"What the code of {render.shown(repr(text))} stands for", words, as_json)

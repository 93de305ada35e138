"""What the server's routes compute: each function runs on an index's thread
(:meth:`~docret.serve.state.ServedIndex.run`) and returns what a route renders.

Every choice a route would otherwise make lives here: the default method, the limits on ``k``,
which words an explanation shows, whether a page has more hits to show, and when a document
has an original file to open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from starlette.exceptions import HTTPException as StarletteHTTPException

from docret import originals
from docret.errors import QueryError
from docret.index import Hit, Index
from docret.rank import METHODS
from docret.serve import adapter
from docret.serve.state import ServedIndex

MAX_K = 1000
MAX_EXPLAIN_K = 50  # each explained hit costs about 20 ms
MAX_UNKNOWN_SHOWN = 20  # unknown words echoed, the rest counted
PAGE = 10  # hits per "more"
MAP_MAX_POINTS = 20_000  # beyond this the map gets a seeded sample plus a density grid
DENSITY_BINS = 160


def hit_rows(hits: list[Hit]) -> list[dict[str, Any]]:
    """Hits as the CLI's ``--json`` prints them, with their rank."""
    return [{"rank": r, **h.to_dict()} for r, h in enumerate(hits, start=1)]


def words_rows(words: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Word weights as the CLI's ``--json`` prints them."""
    return [{"word": w, "weight": round(x, 6)} for w, x in words]


def shown_unknown(words: list[str]) -> dict[str, Any]:
    """The first :data:`MAX_UNKNOWN_SHOWN` unknown words (each already cut short by
    :meth:`~docret.index.Index.unknown_words`) and how many there are in all."""
    return {"unknown_words": words[:MAX_UNKNOWN_SHOWN], "unknown_count": len(words)}


def check_explain(k: int, explain: bool) -> None:
    """Raise :class:`QueryError` when explaining more hits than :data:`MAX_EXPLAIN_K`."""
    if explain and k > MAX_EXPLAIN_K:
        raise QueryError(f"With explain, k is at most {MAX_EXPLAIN_K} (asked for {k:,})")


# -- the JSON API ---------------------------------------------------------------------------
def run_query(index: Index, text: str, k: int, method: str | None, explain: bool) -> dict[str, Any]:
    """``docret query --json``: the hits (with their shared words, with ``explain``), the
    method used (None: the index's default) and those offered, the unknown words."""
    check_explain(k, explain)
    hits = adapter.query(index, text, k, method)
    rows = hit_rows(hits)
    if explain:
        for row in rows:
            row["shared_words"] = [w for w, _ in index.shared_words(text, row["id"])]
    offered = adapter.methods(index)
    return {
        "query": text,
        "method": method or offered[0],
        "methods": offered,
        "k": k,
        "hits": rows,
        "matched": hits.matched,
        **shown_unknown(adapter.unknown_words(index, text)),
        "query_words": [w for w, _ in index.explain(text, 10)] if explain else None,
    }


def run_compare(index: Index, text: str, k: int, method: str | None) -> dict[str, Any]:
    """``query --compare --json``: ``methods`` [method, baseline], each one's hits under its
    name (with ``rank`` and ``in_both``), ``both``; plus the unknown words."""
    adapter.check_method(index, method)
    result = index.compare(text, k, method=method).to_dict()
    for name in result["methods"]:
        result[name] = [{"rank": r, **h} for r, h in enumerate(result[name], start=1)]
    return {"query": text, **result, **shown_unknown(adapter.unknown_words(index, text))}


def run_similar(index: Index, doc_id: str, k: int) -> dict[str, Any]:
    """``docret similar --json``: the documents most like ``doc_id``."""
    return {"id": doc_id, "hits": hit_rows(index.similar(doc_id, k))}


def run_document(index: Index, doc_id: str) -> dict[str, Any]:
    """A stored document: its full text and labels."""
    d = index.document(doc_id)
    return {
        "id": d.id,
        "title": d.title,
        "text": d.text,
        "labels": list(d.labels),
        "path": d.path,
        "split": d.split,
    }


def run_explain(index: Index, text: str, k: int, doc_id: str | None) -> dict[str, Any]:
    """The words the query's code stands for (``docret explain --json``), or with ``doc_id``
    the words it shares with that document's code."""
    words = index.explain(text, k) if doc_id is None else index.shared_words(text, doc_id, k)
    return {"query": text, "id": doc_id, "words": words_rows(words)}


def run_words(index: Index, doc_id: str, k: int) -> dict[str, Any]:
    """``docret words --json``: the words a stored document's code stands for."""
    return {"id": doc_id, "words": words_rows(index.words(doc_id, k))}


def run_info(index: Index) -> dict[str, Any]:
    """``docret info --json``, plus the training curve and the ranking methods offered."""
    return {
        **index.info(),
        "history": adapter.history(index),
        "methods": adapter.methods(index),
    }


def run_add(index: Index, documents: list[dict[str, Any]], replace: bool) -> dict[str, Any]:
    """``docret add --json`` of text documents, with the stored model."""
    return index.add_texts(documents, replace=replace).to_dict()


# -- the map --------------------------------------------------------------------------------
def run_map(
    index: Index, served: ServedIndex, text: str | None, k: int, method: str | None
) -> dict[str, Any]:
    """Every document in 2-D (computed once per opened index), with ``text``'s hits placed."""
    points = served.cached("points", adapter.map_points, index)
    payload = served.cached("map", lambda _: map_payload(points), index)
    if text is None:
        return payload
    return {**payload, "hits": map_hits(index, points, payload["legend"], text, k, method)}


def map_payload(points: adapter.MapPoints) -> dict[str, Any]:
    """All documents for the map; past :data:`MAP_MAX_POINTS`, a sample and a density grid."""
    n = len(points.ids)
    counts: dict[str, int] = {}
    for label in points.labels:
        if label is not None:
            counts[label] = counts.get(label, 0) + 1
    legend = sorted(counts, key=lambda k: (-counts[k], k))
    position = {label: i for i, label in enumerate(legend)}
    xy = points.xy.astype(np.float64)
    lo = xy.min(axis=0) if n else np.zeros(2)
    hi = xy.max(axis=0) if n else np.ones(2)
    hi = np.where(hi > lo, hi, lo + 1.0)
    density = None
    rows = np.arange(n)
    if n > MAP_MAX_POINTS:
        grid, _, _ = np.histogram2d(
            xy[:, 1], xy[:, 0], bins=DENSITY_BINS, range=[[lo[1], hi[1]], [lo[0], hi[0]]]
        )
        density = {"bins": DENSITY_BINS, "counts": grid.astype(int).ravel().tolist()}
        rows = np.sort(np.random.default_rng(0).choice(n, MAP_MAX_POINTS, replace=False))
    return {
        "count": n,
        "shown": len(rows),
        "x0": float(lo[0]),
        "x1": float(hi[0]),
        "y0": float(lo[1]),
        "y1": float(hi[1]),
        "ids": [points.ids[i] for i in rows],
        "x": np.round(xy[rows, 0], 5).tolist(),
        "y": np.round(xy[rows, 1], 5).tolist(),
        "titles": [points.titles[i][:120] for i in rows],
        "label": [position.get(points.labels[i], -1) for i in rows],
        "legend": [{"label": label, "count": counts[label]} for label in legend],
        "density": density,
        "hits": None,
    }


def map_hits(
    index: Index,
    points: adapter.MapPoints,
    legend: list[dict],
    text: str,
    k: int,
    method: str | None = None,
) -> list[dict[str, Any]]:
    """The query's hits with their places on the map (sampled out or not)."""
    row = {doc_id: i for i, doc_id in enumerate(points.ids)}
    position = {item["label"]: i for i, item in enumerate(legend)}
    return [
        {
            "rank": r,
            "id": h.id,
            "title": h.title,
            "x": round(float(points.xy[row[h.id], 0]), 5),
            "y": round(float(points.xy[row[h.id], 1]), 5),
            "label": position.get(points.labels[row[h.id]], -1),
        }
        for r, h in enumerate(adapter.query(index, text, k, method), start=1)
        if h.id in row
    ]


# -- the pages ------------------------------------------------------------------------------
def method_menu(index: Index) -> list[tuple[str, str]]:
    """The methods this index offers with their names in the menus (the default first)."""
    return [(m, METHODS[m].menu) for m in adapter.methods(index)]


def search_context(
    index: Index, text: str, k: int, method: str | None, explain: bool
) -> dict[str, Any]:
    """What the search page shows: the form as sent, the hits of a query that is not blank
    (or the one-line error of a bad one) and the link to more hits when there may be more.
    An empty ``method`` (the menu's default) is the index's default ranking."""
    context: dict[str, Any] = {
        "q": text,
        "k": k,
        "method": method or "",
        "explain": explain,
        "methods": method_menu(index),
        "result": None,
        "error": None,
        "more_url": None,
    }
    if text.strip():
        try:
            context["result"] = run_query(index, text, k, method or None, explain)
        except QueryError as e:
            context["error"] = str(e)
        else:
            shown = len(context["result"]["hits"])
            context["more_url"] = more_url(text, k, method, explain, shown)
    return context


def more_url(text: str, k: int, method: str | None, explain: bool, shown: int) -> str | None:
    """The search page with :data:`PAGE` more hits, scrolled to the first new one; None when
    fewer than ``k`` were found or ``k`` is at its limit."""
    most = MAX_EXPLAIN_K if explain else MAX_K
    if shown != k or k >= most:
        return None
    params: dict[str, Any] = {"q": text, "k": min(k + PAGE, most)}
    if method:
        params["method"] = method
    if explain:
        params["explain"] = "true"
    return f"/?{urlencode(params)}#hit-{k + 1}"


def compare_context(index: Index, text: str, k: int, method: str | None) -> dict[str, Any]:
    """What the compare page shows: the form as sent and, for a query that is not blank, the
    two rankings (or the one-line error of a bad query)."""
    menu = method_menu(index)
    result, error = None, None
    if text.strip():
        try:
            result = run_compare(index, text, k, method or None)
        except QueryError as e:
            error = str(e)
    return {
        "q": text,
        "k": k,
        "method": method or "",
        "methods": menu,
        "names": {m.name: m.menu for m in METHODS.values()},
        "result": result,
        "error": error,
    }


def document_context(index: Index, doc_id: str, text: str = "") -> dict[str, Any]:
    """What a document's page shows: the document, its metadata, whether its original file
    may be opened, its words and the documents most like it; with a query ``text``, where its
    words are and the passage its hit shows."""
    doc = run_document(index, doc_id)
    marks, passage = adapter.marks(index, doc["text"], doc["title"], text)
    return {
        "doc": doc,
        "marks": marks,
        "passage": passage,
        "metadata": index.document(doc_id).metadata,
        "has_file": originals.original_file(index, doc_id) is not None,
        "words": index.words(doc_id, 15),
        "similar": hit_rows(index.similar(doc_id, PAGE)),
    }


def original_file(index: Index, doc_id: str) -> Path:
    """The file ``doc_id`` was read from when it may be served
    (:func:`docret.originals.original_file`); a 404 otherwise."""
    path = originals.original_file(index, doc_id)
    if path is None:
        raise StarletteHTTPException(404, f"Document {doc_id!r} has no original file to open")
    return path

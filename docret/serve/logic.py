"""What the server's routes compute: each function runs on an index's thread
(:meth:`~docret.serve.state.ServedIndex.run`) and returns what a route renders.

Every choice a route would otherwise make lives here: the default method, the limits on ``k``,
which words an explanation shows, whether a page has more hits to show, and when a document
has an original file to open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from starlette.exceptions import HTTPException as StarletteHTTPException

from docret import originals
from docret.errors import FilterError, QueryError
from docret.filters import FIELDS, Filters, FilterSpec
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
def run_query(
    index: Index,
    text: str,
    k: int,
    method: str | None,
    explain: bool,
    filters: FilterSpec = None,
    facets: bool = False,
) -> dict[str, Any]:
    """``docret query --json``: the hits among the documents ``filters`` lets through (with
    their shared words, with ``explain``), the method used (None: the index's default) and
    those offered, the unknown words and the query they suggest; with ``facets``, how many
    matched documents are of each type and in each folder."""
    check_explain(k, explain)
    hits = adapter.query(index, text, k, method, filters)
    rows = hit_rows(hits)
    if explain:
        for row in rows:
            row["shared_words"] = [w for w, _ in index.shared_words(text, row["id"])]
    offered = adapter.methods(index)
    unknown = adapter.unknown_words(index, text)
    return {
        "query": text,
        "method": method or offered[0],
        "methods": offered,
        "k": k,
        "hits": rows,
        "matched": hits.matched,
        **shown_unknown(unknown),
        "query_words": [w for w, _ in index.explain(text, 10)] if explain else None,
        "did_you_mean": index.did_you_mean(text) if unknown else None,
        "facets": facet_rows(hits.facets()) if facets else None,
    }


def facet_rows(facets: dict[str, list[tuple[str, int]]]) -> dict[str, list[dict[str, Any]]]:
    """Facets as the API sends them: ``{"type": [{"value", "count"}, ...], "folder": ...}``."""
    return {name: [{"value": v, "count": c} for v, c in found] for name, found in facets.items()}


def run_compare(
    index: Index, text: str, k: int, method: str | None, filters: FilterSpec = None
) -> dict[str, Any]:
    """``query --compare --json``: ``methods`` [method, baseline], each one's hits under its
    name (with ``rank`` and ``in_both``), ``both``; plus the unknown words."""
    adapter.check_method(index, method)
    result = index.compare(text, k, method=method, filters=filters).to_dict()
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
    index: Index,
    text: str,
    k: int,
    method: str | None,
    explain: bool,
    given: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """What the search page shows: the form as sent, the hits of a query that is not blank
    or has filters (or the one-line error of a bad one) among the documents its filters let
    through, those filters each with a link that drops it, the facets of its matched
    documents with links that add one, and the link to more hits when there may be more.
    An empty ``method`` (the menu's default) is the index's default ranking; empty filter
    fields (a form's) are no filters."""
    form = {name: [v for v in (given or {}).get(name, ()) if v.strip()] for name in FIELDS}
    context: dict[str, Any] = {
        "q": text,
        "k": k,
        "method": method or "",
        "explain": explain,
        "methods": method_menu(index),
        **filter_context(form),
        "facets": None,
        "suggestion_url": None,
        "result": None,
        "more_url": None,
    }
    filters, page = context.pop("filters"), None
    if filters is not None:
        page = Page(text, method or None, explain, filters)
        context["active"] = page.active()
        context["filter_url"] = page.adding
    if page is None or not (text.strip() or page.filters):
        return context
    try:
        result = run_query(index, text, k, method or None, explain, page.filters, True)
    except QueryError as e:
        context["error"] = str(e)
        return context
    context["result"] = result
    context["facets"] = page.facets(result["facets"])
    context["more_url"] = more_url(text, k, method, explain, len(result["hits"]), page.filters)
    if result.get("did_you_mean"):
        context["suggestion_url"] = page.url(page.filters, result["did_you_mean"])
    return context


def filter_context(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """What a page with a query form shows of its filters: ``form`` (the form's values, each
    date as an ISO date where it reads as one), ``filters`` (:class:`Filters`, None when one
    cannot be read), ``error`` (then its one-line message), ``active`` and ``filter_url``
    (filled in by :class:`Page`) and ``filter_query`` (the filters as URL parameters)."""
    dates = {name: (form.get(name) or [""])[-1] for name in ("since", "until")}
    out: dict[str, Any] = {
        "form": {**form, **dates},
        "filters": None,
        "error": None,
        "active": [],
        "filter_url": None,
        "filter_query": "",
    }
    try:
        filters = page_filters(form)
    except FilterError as e:
        out["error"] = str(e)
        return out
    params = filters.params()
    out["form"] |= {name: (params.get(name) or [""])[-1] for name in ("since", "until")}
    out["filters"] = filters
    out["filter_query"] = urlencode(params, doseq=True)
    return out


def page_filters(form: Mapping[str, Sequence[str]]) -> Filters:
    """The filters of a page's form or link (each field a list of values); raises
    :class:`~docret.errors.FilterError` for a bad one."""
    return Filters.parse(**{name: form.get(name, ()) for name in FIELDS})


@dataclass(frozen=True)
class Page:
    """A search page's query and filters, and the links that change its filters."""

    text: str
    method: str | None
    explain: bool
    filters: Filters

    def url(self, filters: Filters, text: str | None = None) -> str:
        """This search with ``filters`` instead (and ``text``, where given), from its first
        hit."""
        shown = self.text if text is None else text
        return search_url(shown, PAGE, self.method, self.explain, filters)

    def adding(self, name: str, value: str) -> str:
        """This search with the filter ``name`` = ``value`` added (a label chip, a facet)."""
        params = self.filters.params()
        if value not in params.get(name, []):
            params[name] = [*params.get(name, []), value]
        return self.url(page_filters(params))

    def active(self) -> list[dict[str, str]]:
        """Each filter in force: its name, value and the link to this search without it."""
        out = []
        for name, values in self.filters.params().items():
            for value in values:
                rest = self.filters.params()
                rest[name] = [v for v in rest[name] if v != value]
                out.append({"name": name, "value": value, "url": self.url(page_filters(rest))})
        return out

    def facets(self, found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """The query's facets, each value with the link that adds it as a filter (a folder as
        a ``path``); the folder of documents without one has no link."""
        return {
            name: [
                {**f, "url": self.adding(kind, f["value"]) if f["value"] else None}
                for f in found.get(name, [])
            ]
            for name, kind in (("type", "type"), ("folder", "path"))
        }


def search_url(
    text: str, k: int, method: str | None, explain: bool, filters: Filters, anchor: str = ""
) -> str:
    """The search page of ``text`` with these settings and filters."""
    params: list[tuple[str, Any]] = [("q", text), ("k", k)]
    if method:
        params.append(("method", method))
    if explain:
        params.append(("explain", "true"))
    params += [(name, v) for name, values in filters.params().items() for v in values]
    return f"/?{urlencode(params)}{anchor}"


def more_url(
    text: str,
    k: int,
    method: str | None,
    explain: bool,
    shown: int,
    filters: Filters | None = None,
) -> str | None:
    """The search page with :data:`PAGE` more hits, scrolled to the first new one; None when
    fewer than ``k`` were found or ``k`` is at its limit."""
    most = MAX_EXPLAIN_K if explain else MAX_K
    if shown != k or k >= most:
        return None
    more = min(k + PAGE, most)
    return search_url(text, more, method, explain, filters or Filters(), f"#hit-{k + 1}")


def compare_context(
    index: Index,
    text: str,
    k: int,
    method: str | None,
    given: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """What the compare page shows: the form as sent and, for a query that is not blank, the
    two rankings among the documents its filters let through (or the one-line error of a
    bad query or filter)."""
    form = {name: [v for v in (given or {}).get(name, ()) if v.strip()] for name in FIELDS}
    context = {
        "q": text,
        "k": k,
        "method": method or "",
        "methods": method_menu(index),
        "names": {m.name: m.menu for m in METHODS.values()},
        "result": None,
        **filter_context(form),
    }
    filters = context.pop("filters")
    if filters is not None and text.strip():
        try:
            context["result"] = run_compare(index, text, k, method or None, filters)
        except QueryError as e:
            context["error"] = str(e)
    return context


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

"""Everything the server needs beyond the documented :class:`~docret.index.Index` API.

Kept in this one module so that a change to the index's internals touches the server here
only. What it reaches into: the index's ``store`` (the change stamp, and the titles and labels
the map shows), its ``snapshot`` (``ids`` and ``codes`` for the map, ``model`` for the training
curve, the analyzer for the query's words on a document's page) and the ranking registry
(:mod:`docret.rank`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docret.errors import QueryError
from docret.filters import FilterSpec
from docret.index import Index, Ranking


def change_stamp(db: str | Path, index: Index | None) -> tuple[Any, ...]:
    """What changes when another process rebuilds, retrains, adds to or replaces the database.

    The file's identity (a new file after a delete and rebuild) and SQLite's ``data_version``,
    which moves whenever another connection commits. Cheap enough to ask on every request.
    """
    st = os.stat(db)  # FileNotFoundError: the database is gone (mid-rebuild)
    version = index.store.commit_mark() if index else None
    return (st.st_dev, st.st_ino, version)


def methods(index: Index) -> list[str]:
    """Ranking methods this index offers, the first being what a query without one gets
    (:func:`docret.rank.offered`)."""
    return index.offered()


def query(
    index: Index, text: str, k: int, method: str | None, filters: FilterSpec = None
) -> Ranking:
    """Rank for ``text`` by ``method`` (None: the index's default ranking) under ``filters``."""
    check_method(index, method)
    return index.query(text, k, method=method, filters=filters)


def check_method(index: Index, method: str | None) -> None:
    """Raise :class:`QueryError` for a method this index does not offer."""
    offered = methods(index)
    if method is not None and method not in offered:
        raise QueryError(
            f"Unknown ranking method {method!r} (this index offers: {', '.join(offered)})"
        )


def unknown_words(index: Index, text: str) -> list[str]:
    """The query's words outside the vocabulary (ignored by the ranking)."""
    return list(index.unknown_words(text))


def marks(
    index: Index, text: str, title: str | None, query: str
) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """Where the words of ``query`` are in a document's ``text``, and the passage its hit
    shows (:func:`docret.snippets.marks`)."""
    from docret.snippets import marks

    return marks(index.snapshot, text, title, query)


def history(index: Index) -> list[dict[str, Any]]:
    """Loss and held-out loss per training epoch."""
    return [
        {"epoch": h.get("epoch"), "loss": h.get("loss"), "val_loss": h.get("val_loss")}
        for h in index.snapshot.model["history"]
    ]


@dataclass
class MapPoints:
    """Every document placed in 2-D (storage order), with what the map shows of it."""

    ids: list[str]
    xy: np.ndarray  # (N, 2) float32
    titles: list[str]
    labels: list[str | None]  # first label


def map_points(index: Index) -> MapPoints:
    """The stored codes on their two principal components, as ``docret map`` draws them."""
    from docret.mapping import pca_2d

    snap = index.snapshot
    ids = snap.ids
    xy = pca_2d(snap.codes) if len(ids) > 1 else np.zeros((len(ids), 2), np.float32)
    shown = index.store.titles_and_first_labels()
    return MapPoints(
        ids=list(ids),
        xy=xy,
        titles=[shown.get(i, ("", None))[0] for i in ids],
        labels=[shown.get(i, ("", None))[1] for i in ids],
    )

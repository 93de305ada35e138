"""What every ranker shares: unit rows, top k with one tie rule, which documents a ranking
lists, min-max scaling, a query's tf-idf vector, and :class:`Scored`, a ranker's answer.

numpy only: the query path imports neither torch nor scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from docret.errors import QueryError, clipped, listing

if TYPE_CHECKING:
    from docret.snapshot import Snapshot
    from docret.text import SparseVector


@dataclass(frozen=True)
class Scored:
    """One query's answer from a ranker: every document's score (N,), the first ``k`` rows
    best first (``order``), and which documents the method lists (``listed``, a boolean mask
    over the rows: :func:`matching`; None for a nearest-neighbour search, which lists all).
    A ranking asked for ``allowed`` rows only (a filter) keeps every row's score and leaves
    the others out of ``order`` and ``listed``."""

    order: np.ndarray
    scores: np.ndarray
    listed: np.ndarray | None = None


def scored(
    scores: np.ndarray,
    k: int,
    lexical: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> Scored:
    """The :class:`Scored` of ``scores``: their top ``k`` and the documents
    :func:`matching` lists (``lexical``: the word scores of a fused ranking), among the
    ``allowed`` rows only where given (a boolean mask)."""
    order = top_k(scores, k, allowed=allowed)
    return Scored(order, scores, matching(scores, lexical, allowed))


def vectorize(state: Snapshot, text: str) -> SparseVector:
    """The query's tf-idf vector over the model's vocabulary; raises :class:`QueryError` if it
    has no word the model knows, saying why (unknown words, stop words only, no words)."""
    if not text or not text.strip():
        raise QueryError("Query is empty")
    vec = state.vectorizer.transform_one(text)
    if len(vec.indices) == 0:
        if vec.unknown:
            raise QueryError(
                "No word of the query is in the index vocabulary (unknown: "
                f"{listing([clipped(w) for w in vec.unknown])})"
            )
        if vec.stop_words:
            raise QueryError(
                "The query has only stop words, which are not indexed: "
                + listing([clipped(w) for w in vec.stop_words])
            )
        raise QueryError("The query has no words (only numbers or punctuation)")
    return vec


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def logits(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The inputs of logistic units recovered from their outputs ``p``, float32.

    ``p`` is clipped to ``[eps, 1 - eps]`` first: float32 rounds a saturated unit to exactly 0
    or 1, whose logit would be infinite.
    """
    p = np.clip(np.asarray(p, dtype=np.float32), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def top_k(
    scores: np.ndarray, k: int, exclude: int | None = None, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties go to the lower index. With
    ``allowed`` (a boolean mask), among those rows only: the same order as the whole
    ranking's with the other rows left out."""
    scores = np.asarray(scores)
    if allowed is not None:
        rows = within(allowed, exclude)
        return rows[top_k(scores[rows], k)]
    if exclude is not None:
        scores = scores.copy()
        scores[exclude] = -np.inf
    n = len(scores) - (exclude is not None)
    k = max(0, min(k, n))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        # argpartition splits ties arbitrarily: take every index tied with the k-th score too,
        # then a stable sort keeps the order deterministic.
        cut = scores[part].min()
        part = np.flatnonzero(scores >= cut)
    else:
        part = np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    return part[order][:k]


def within(allowed: np.ndarray, exclude: int | None = None) -> np.ndarray:
    """The rows an ``allowed`` mask lets through (ascending), row ``exclude`` left out."""
    rows = np.flatnonzero(allowed)
    return rows if exclude is None else rows[rows != exclude]


def matching(
    scores: np.ndarray, lexical: np.ndarray | None = None, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Which documents a ranking lists for a query (a boolean mask over ``scores``).

    A ranking by words alone (BM25, tf-idf cosine) lists the documents with a positive score:
    those that contain a query term. A ranking by codes, LSA or likelihood alone gives every
    document a score, and its only own sign of relatedness is a positive one (a cosine above
    that of an unrelated, orthogonal vector); it lists those. A ranking that fuses words with
    codes or LSA (the default, hybrid; ``lexical`` holds its word scores) lists every document
    that contains a query term and every other document it ranks at least as high as one of
    them: below the last document with a query term, a document is there only to fill ``k``.
    The scores themselves are never changed (evaluation ranks them whole). With ``allowed``
    (a filter's boolean mask), the same among those rows alone, as if they were the index.
    """
    scores = np.asarray(scores)
    positive = scores > 0 if allowed is None else (scores > 0) & allowed
    if lexical is None:
        return positive
    found = np.asarray(lexical) > 0
    if allowed is not None:
        found &= allowed
    if not found.any():
        return positive
    listed = (scores >= scores[found].min()) | found
    return listed if allowed is None else listed & allowed


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """:func:`top_k` of each row of a (Q, N) score matrix: (Q, min(k, N)) indices, best first.

    Row by row on purpose: one tie rule (higher score first, then the lower index) in one
    function, for the product's rankings and for evaluation alike.
    """
    scores = np.asarray(scores)
    k = max(0, min(k, scores.shape[1]))
    out = np.empty((scores.shape[0], k), dtype=np.int64)
    for q, row in enumerate(scores):
        out[q] = top_k(row, k)
    return out


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scores of each row mapped onto [0, 1] (a constant row becomes all 0), float32."""
    s = np.atleast_2d(np.asarray(scores, dtype=np.float32))
    lo, hi = s.min(axis=1, keepdims=True), s.max(axis=1, keepdims=True)
    out = (s - lo) / np.where(hi > lo, hi - lo, 1.0)
    return out if np.ndim(scores) == 2 else out[0]


def take_rows(indptr: np.ndarray, rows: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """CSR parts (indptr, then each of ``columns`` cut the same way) of the rows ``rows`` of
    a sparse matrix given by its ``indptr`` and per-entry ``columns``; a row of -1 is empty."""
    rows = np.asarray(rows, dtype=np.int64)
    present = rows >= 0
    sizes = np.zeros(len(rows), dtype=np.int64)
    sizes[present] = np.diff(indptr)[rows[present]]
    starts = np.zeros(len(rows), dtype=np.int64)
    starts[present] = np.asarray(indptr)[rows[present]]
    out = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    picked = np.repeat(starts - out[:-1], sizes) + np.arange(out[-1])
    return (out, *(c[picked] for c in columns))

"""Retrieval metrics: precision at k, average precision, nDCG, over ranked relevance lists.

A ranking is given as a boolean or graded relevance matrix ``rel`` of shape (queries, depth):
``rel[q, i]`` is the relevance of the document ranked ``i + 1`` for query ``q``.
"""

from __future__ import annotations

import numpy as np


def precision_at_k(rel: np.ndarray, k: int) -> np.ndarray:
    """Per query: the share of the first ``k`` ranks that are relevant (depth must reach ``k``)."""
    rel = np.asarray(rel) > 0
    if rel.shape[1] < k:
        raise ValueError(f"ranking depth {rel.shape[1]} is less than k={k}")
    return rel[:, :k].mean(axis=1)


def average_precision_at_k(
    rel: np.ndarray, k: int, n_relevant: np.ndarray | None = None
) -> np.ndarray:
    """Per query: mean of precision@i over the ranks ``i <= k`` that hold a relevant document.

    With ``n_relevant`` (all relevant documents of each query) the sum is divided by
    ``min(n_relevant, k)`` instead, the TREC convention that also charges for relevant
    documents never retrieved. A query with nothing relevant scores 0.
    """
    rel = (np.asarray(rel) > 0)[:, :k]
    hits = np.cumsum(rel, axis=1)
    ranks = np.arange(1, rel.shape[1] + 1)
    summed = (rel * hits / ranks).sum(axis=1)
    denom = rel.sum(axis=1) if n_relevant is None else np.minimum(np.asarray(n_relevant), k)
    return np.divide(summed, denom, out=np.zeros(len(rel)), where=denom > 0)


def ndcg_at_k(gains: np.ndarray, ideal_gains: list[np.ndarray], k: int) -> np.ndarray:
    """Per query: DCG@k of the ranking over DCG@k of the ideal ordering of its judged gains.

    ``gains[q, i]`` is the graded relevance at rank ``i + 1``; ``ideal_gains[q]`` every judged
    relevance of query ``q``. DCG uses ``(2^g - 1) / log2(rank + 1)``. No relevant document: 0.
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = np.asarray(gains, dtype=np.float64)[:, :k]
    dcg = ((2.0**gains - 1.0) * discounts[: gains.shape[1]]).sum(axis=1)
    out = np.zeros(len(gains))
    for q, ideal in enumerate(ideal_gains):
        best = np.sort(np.asarray(ideal, dtype=np.float64))[::-1][:k]
        idcg = ((2.0**best - 1.0) * discounts[: len(best)]).sum()
        out[q] = dcg[q] / idcg if idcg > 0 else 0.0
    return out


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices (Q, k) of the ``k`` highest scores in each row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def top_k_rows(queries: np.ndarray, docs: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """Indices (Q, k) of the ``k`` documents with the highest dot product for each query row."""
    return np.concatenate(
        [top_rows(queries[s : s + chunk] @ docs.T, k) for s in range(0, queries.shape[0], chunk)]
    )

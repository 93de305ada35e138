"""Retrieval metrics as trec_eval defines them: precision at k, average precision, nDCG.

A ranking is given as a boolean or graded relevance matrix ``rel`` of shape (queries, depth):
``rel[q, i]`` is the relevance of the document ranked ``i + 1`` for query ``q``. Queries with
no relevant document at all are the caller's to leave out (:func:`judged`), as trec_eval does;
these functions score them 0. A test (``tests/test_metrics.py``) scores the same run with
ir-measures and requires agreement.
"""

from __future__ import annotations

import numpy as np

from docret.rank.base import top_k_rows as _top_k_rows


def precision_at_k(rel: np.ndarray, k: int) -> np.ndarray:
    """Per query: relevant documents in the first ``k`` ranks, divided by ``k`` (trec_eval's
    ``P_k``): a ranking shorter than ``k`` counts its missing ranks as not relevant."""
    rel = np.asarray(rel) > 0
    return rel[:, :k].sum(axis=1) / k


def average_precision(rel: np.ndarray, n_relevant: np.ndarray, k: int | None = None) -> np.ndarray:
    """Per query: the sum of precision@i over the ranks ``i <= k`` holding a relevant document,
    divided by all of the query's relevant documents ``n_relevant`` (trec_eval's ``map`` and,
    with ``k``, ``map_cut_k``): relevant documents never retrieved count as misses."""
    rel = np.asarray(rel) > 0
    if k is not None:
        rel = rel[:, :k]
    hits = np.cumsum(rel, axis=1)
    ranks = np.arange(1, rel.shape[1] + 1)
    summed = (rel * hits / ranks).sum(axis=1)
    denom = np.asarray(n_relevant, dtype=np.float64)
    return np.divide(summed, denom, out=np.zeros(len(rel)), where=denom > 0)


def ndcg_at_k(
    gains: np.ndarray, ideal_gains: list[np.ndarray], k: int, *, exponential: bool = False
) -> np.ndarray:
    """Per query: DCG@k of the ranking over DCG@k of the ideal ordering of its judged gains.

    ``gains[q, i]`` is the graded relevance at rank ``i + 1``; ``ideal_gains[q]`` every judged
    relevance of query ``q``. DCG sums ``g / log2(rank + 1)``, trec_eval's ``ndcg_cut_k``;
    ``exponential`` uses ``2^g - 1`` instead (Burges et al.), a variant to be named as such.
    No relevant document: 0.
    """

    def gain(g: np.ndarray) -> np.ndarray:
        return 2.0**g - 1.0 if exponential else g

    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = np.asarray(gains, dtype=np.float64)[:, :k]
    dcg = (gain(gains) * discounts[: gains.shape[1]]).sum(axis=1)
    out = np.zeros(len(gains))
    for q, ideal in enumerate(ideal_gains):
        best = np.sort(np.asarray(ideal, dtype=np.float64))[::-1][:k]
        idcg = (gain(best) * discounts[: len(best)]).sum()
        out[q] = dcg[q] / idcg if idcg > 0 else 0.0
    return out


def judged(n_relevant: np.ndarray) -> np.ndarray:
    """Indices of the queries that have at least one relevant document: the ones trec_eval
    averages over."""
    return np.flatnonzero(np.asarray(n_relevant) > 0)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices (Q, k) of the ``k`` highest scores in each row, best first, ties by lower index
    (the one rule of :func:`docret.rank.base.top_k_rows`)."""
    return _top_k_rows(scores, k)


def top_k_rows(queries: np.ndarray, docs: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """Indices (Q, k) of the ``k`` documents with the highest dot product for each query row."""
    return np.concatenate(
        [top_rows(queries[s : s + chunk] @ docs.T, k) for s in range(0, queries.shape[0], chunk)]
    )

"""Rankings by the query's words alone: Okapi BM25 and tf-idf cosine over inverted indexes.

:class:`Bm25` follows Robertson et al., "Okapi at TREC-3" (1994), with Lucene's idf as bm25s
computes it; tf-idf cosine is Salton and Buckley's "Term-weighting approaches in automatic text
retrieval" (1988) over the stored sublinear tf-idf vectors.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from docret.errors import QueryError, listing
from docret.rank.base import Scored, scored, vectorize

if TYPE_CHECKING:
    from docret.snapshot import Snapshot

# Okapi BM25 parameters: bm25s' defaults, so the index's BM25 ranks as evaluate's baseline does.
BM25_K1 = 1.5
BM25_B = 0.75

LARGE_POSTINGS = 2_000_000  # from this many postings an inverted index is built by scipy


class InvertedIndex:
    """Sparse document vectors by term (BM25's postings, tf-idf cosine): a query is one
    slice of postings per query term."""

    def __init__(
        self, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, n_terms: int
    ) -> None:
        n_docs = len(indptr) - 1
        self.n_docs = n_docs
        if len(indices) >= LARGE_POSTINGS:
            # scipy's CSR -> CSC is a counting sort in C++: the same arrays as the stable
            # argsort below, 8 times faster at 50 million postings (bench/large.py). Small
            # indexes keep the argsort and spare a query process scipy's import.
            import scipy.sparse as sp

            by_term = sp.csr_matrix(
                (weights, indices, indptr), shape=(n_docs, n_terms), copy=False
            ).tocsc()
            self.docs = by_term.indices.astype(np.int32, copy=False)
            self.weights = by_term.data
            self.starts = by_term.indptr.astype(np.int64, copy=False)
            return
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), np.diff(indptr))
        order = np.argsort(indices, kind="stable")
        self.docs = doc_of[order]
        self.weights = weights[order]
        self.starts = np.searchsorted(indices[order], np.arange(n_terms + 1))

    def with_weights(self, weights: np.ndarray) -> InvertedIndex:
        """The same postings with other ``weights``, given in this index's order."""
        out = copy.copy(self)
        out.weights = weights
        return out

    def terms(self) -> np.ndarray:
        """The term of each posting, in this index's order."""
        return np.repeat(np.arange(len(self.starts) - 1), np.diff(self.starts))

    def scores(self, term_ids: np.ndarray, term_weights: np.ndarray) -> np.ndarray:
        """Dot products of one sparse query with every document: (N,) float32."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for j, w in zip(term_ids, term_weights, strict=True):
            s, e = self.starts[j], self.starts[j + 1]
            # A document holds each term once, so plain fancy-index += is safe here.
            out[self.docs[s:e]] += w * self.weights[s:e]
        return out


class Bm25:
    """Okapi BM25 over term counts (Lucene's idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``).

    Built from CSR parts of the documents' term counts; document frequencies and lengths are
    computed here, so documents added or removed since the build are always counted right.
    Each posting holds its whole BM25 term weight, so a query is one sum per query term.
    """

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        counts: np.ndarray,
        n_terms: int,
        k1: float = BM25_K1,
        b: float = BM25_B,
    ) -> None:
        indptr = np.asarray(indptr, dtype=np.int64)
        indices = np.asarray(indices, dtype=np.int32)
        counts = np.asarray(counts, dtype=np.float32)
        self.counts_csr = (indptr, indices, counts)  # kept for feedback and for storing
        n_docs = len(indptr) - 1
        doc_of = np.repeat(np.arange(n_docs), np.diff(indptr))
        self.k1, self.b, self.n_docs = k1, b, n_docs
        self.lengths = np.bincount(doc_of, weights=counts, minlength=n_docs).astype(np.float32)
        self.avgdl = float(self.lengths.mean()) if n_docs and self.lengths.mean() > 0 else 1.0
        df = np.bincount(indices, minlength=n_terms)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        weights = self._weights(indices, counts, self.lengths[doc_of])
        self.postings = InvertedIndex(indptr, indices, weights, n_terms)
        self._counts_by_term: InvertedIndex | None = None  # with_parameters builds it

    def with_parameters(self, k1: float, b: float) -> Bm25:
        """The same documents' BM25 at ``k1`` and ``b``. The postings' order is reused and only
        their weights are computed again: calibration tries many
        settings (:mod:`docret.rank.calibrate`)."""
        if self._counts_by_term is None:
            indptr, indices, counts = self.counts_csr
            self._counts_by_term = InvertedIndex(indptr, indices, counts, len(self.idf))
        by_term = self._counts_by_term
        out = copy.copy(self)
        out.k1, out.b = k1, b
        weights = out._weights(by_term.terms(), by_term.weights, self.lengths[by_term.docs])
        out.postings = by_term.with_weights(weights)
        return out

    def _weights(self, terms: np.ndarray, counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        norm = self.k1 * (1.0 - self.b + self.b * lengths / self.avgdl)
        # Lucene's form, without the constant factor (k1 + 1), as bm25s computes it.
        return (self.idf[terms] * counts / (counts + norm)).astype(np.float32)

    def scores(self, term_ids: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """BM25 of one query (its term ids and how often each occurs) against every document."""
        return self.postings.scores(np.asarray(term_ids), np.asarray(counts, dtype=np.float32))

    def score_matched(
        self, query_ids: np.ndarray, query_counts: np.ndarray, tf: np.ndarray, length: float
    ) -> float:
        """BM25 of a query (its term ids and counts) against a text that is not in the index,
        with the index's statistics, from how often each query term occurs in the text and its
        length (:func:`matched_counts`, which holds at any k1, b): pseudo-queries score the
        rest of the document they were cut from."""
        if not tf.any():
            return 0.0
        w = self._weights(np.asarray(query_ids), tf, np.full(len(tf), length, dtype=np.float32))
        return float(np.dot(np.asarray(query_counts, dtype=np.float32), w))


def matched_counts(
    query_ids: np.ndarray, doc_ids: np.ndarray, doc_counts: np.ndarray
) -> tuple[np.ndarray, float]:
    """How often each query term (``query_ids``) occurs in a text given by its term ids and
    counts, (Q,) float32, and the text's length in terms."""
    doc = dict(zip(np.asarray(doc_ids).tolist(), np.asarray(doc_counts).tolist(), strict=True))
    tf = np.array([doc.get(j, 0.0) for j in np.asarray(query_ids).tolist()], dtype=np.float32)
    return tf, float(np.sum(doc_counts))


def bm25_scores(state: Snapshot, text: str) -> tuple[np.ndarray, float]:
    """BM25 of ``text`` against every document of ``state`` at the index's parameters, and the
    query's number of terms that some document holds; raises :class:`QueryError` when no
    document holds a word of it, saying why."""
    if not text or not text.strip():
        raise QueryError("Query is empty")
    found = state.lexical.scores(state.vectorizer.analyzer, text)
    if found is None:
        vectorize(state, text)  # raises the precise error: unknown words, stop words, ...
        # the model knows a word, but no document holds it any more (all were removed)
        unknown = listing(unknown_words(state, text))
        raise QueryError(f"No indexed document holds a word of the query (unknown: {unknown})")
    return found


def unknown_words(state: Snapshot, text: str) -> list[str]:
    """The query's words that no indexed document has (ignored by every ranking), in query
    order, each cut to its first 40 characters (:func:`~docret.errors.clipped`)."""
    from docret.errors import clipped

    analyzer = state.vectorizer.analyzer
    return [
        clipped(w)
        for w in dict.fromkeys(analyzer.tokens(text))
        if w not in analyzer.stop_words and not state.lexical.has(analyzer.stem(w))
    ]


def bm25(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """Okapi BM25 alone (:class:`Bm25`); it lists the documents that hold a query term."""
    return [scored(bm25_scores(state, t)[0], k, allowed=allowed) for t in texts]


def tfidf(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """Plain bag-of-words retrieval: the cosine of the query's tf-idf vector with the stored
    ones; it lists the documents that hold a query term."""
    out = []
    for text in texts:
        vec = vectorize(state, text)
        scores = state.tfidf_by_term.scores(vec.indices, vec.values)
        out.append(scored(scores, k, allowed=allowed))
    return out

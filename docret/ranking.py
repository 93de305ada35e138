"""Top-k ranking: cosine on L2-normalised codes, Hamming distance on packed binary codes,
tf-idf cosine and Okapi BM25 over inverted indexes, and the fusion of BM25 with the code and
LSA cosines (with pseudo-relevance feedback in those two spaces).

Everything here is numpy: it runs on the query path, which imports neither torch nor
scikit-learn.
"""

from __future__ import annotations

import copy

import numpy as np

# The hybrid ranking adds this times the tf-idf cosine to the code cosine: the code finds the
# query's topic, the lexical part lifts the documents in it that share the query's words. 1.0
# was chosen on validation slices of 20 Newsgroups train (4 and 20 groups): better than 0.25
# and 0.5 on P@10 and MAP@100 on both, best or within 0.001 of the best on P@100
# (bench/RESULTS.md, third session).
HYBRID_WEIGHT = 1.0

# The rankings an index offers, by name (``Index.query(method=...)``, ``docret query --method``):
# "default" is BM25 fused with the code cosine and the LSA cosine at the weights chosen when
# the index was built (docret.fusion), ranked twice (fuse_with_feedback); "codes" the code
# cosine (Hamming distance for binary codes); "hybrid" code cosine plus tf-idf cosine; "bm25"
# and "tfidf" the lexical rankings alone; "lsa" the cosine of LSA vectors (the model's
# directions of the tf-idf matrix) alone; "likelihood" the codes alone again, by the decoder's
# likelihood of the query's words given each document's code with some of the code cosine
# (likelihood_ranking).
METHODS = ("default", "codes", "hybrid", "bm25", "tfidf", "lsa", "likelihood")


def method_name(method: str | None, hybrid: bool = False) -> str:
    """The ranking a query asks for: ``method`` (None is the default) or the older
    ``hybrid=True``; raises ValueError for an unknown name."""
    if hybrid and method not in (None, "hybrid"):
        raise ValueError(f"hybrid=True contradicts method={method!r}")
    name = "hybrid" if hybrid else method or "default"
    if name not in METHODS:
        raise ValueError(f"Unknown ranking method {name!r}; choose one of {', '.join(METHODS)}")
    return name


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


def top_k(scores: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties go to the lower index."""
    scores = np.asarray(scores)
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


def matching(scores: np.ndarray, lexical: np.ndarray | None = None) -> np.ndarray:
    """Which documents a ranking lists for a query (a boolean mask over ``scores``).

    A ranking by words alone (BM25, tf-idf cosine) lists the documents with a positive score:
    those that contain a query term. A ranking by codes, LSA or likelihood alone gives every
    document a score, and its only own sign of relatedness is a positive one (a cosine above
    that of an unrelated, orthogonal vector); it lists those. A ranking that fuses words with
    codes or LSA (the default, hybrid; ``lexical`` holds its word scores) lists every document
    that contains a query term and every other document it ranks at least as high as one of
    them: below the last document with a query term, a document is there only to fill ``k``.
    The scores themselves are never changed (evaluation ranks them whole).
    """
    scores = np.asarray(scores)
    if lexical is None:
        return scores > 0
    found = np.asarray(lexical) > 0
    if not found.any():
        return scores > 0
    return (scores >= scores[found].min()) | found


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


# Okapi BM25 parameters: bm25s' defaults, so the index's BM25 ranks as evaluate's baseline does.
BM25_K1 = 1.5
BM25_B = 0.75


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
            # argsort below, 8 times faster at 50 million postings (bench/RESULTS.md). Small
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
        their weights are computed again: calibration tries many settings (docret.fusion)."""
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

    def score_text(
        self,
        query_ids: np.ndarray,
        query_counts: np.ndarray,
        doc_ids: np.ndarray,
        doc_counts: np.ndarray,
    ) -> float:
        """BM25 of a query against a text that is not in the index, with the index's
        statistics (pseudo-queries score the rest of the document they were cut from)."""
        return self.score_matched(
            query_ids, query_counts, *matched_counts(query_ids, doc_ids, doc_counts)
        )

    def score_matched(
        self, query_ids: np.ndarray, query_counts: np.ndarray, tf: np.ndarray, length: float
    ) -> float:
        """:meth:`score_text` from :func:`matched_counts`' result (which holds at any k1, b)."""
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


# A typed question gets the corpus' weights for short queries (docret.fusion); a longer one moves
# on a log scale toward the corpus' weights for long queries, chosen from pseudo-queries as long
# as a paragraph, reached at their median length (at least 2 x SHORT_QUERY_TERMS). How far the
# codes should weigh for a question written as a paragraph differs by corpus: a fixed move to
# codes 0.8 suited whole 20 Newsgroups posts as queries but handed LISA's paragraph questions to
# its weakest score (MAP 0.198 against BM25's 0.302; with its own long pair 0.317,
# bench/RESULTS.md, "Default ranking").
SHORT_QUERY_TERMS = 12


def query_weights(
    short: tuple[float, float], long: tuple[float, float], n_terms: float, long_terms: float
) -> tuple[float, float]:
    """The (codes, LSA) fusion weights of a query of ``n_terms`` terms, given the corpus'
    pair for short queries and its pair for long ones, chosen on pseudo-queries of a median
    ``long_terms`` terms.

    ``short`` up to :data:`SHORT_QUERY_TERMS` terms; from there, on a log scale, it moves to
    ``long``, reached at ``max(2 * SHORT_QUERY_TERMS, long_terms)`` terms and kept beyond.
    """
    if n_terms <= SHORT_QUERY_TERMS or long == short:
        return short
    full = max(2 * SHORT_QUERY_TERMS, long_terms)
    t = min(1.0, float(np.log(n_terms / SHORT_QUERY_TERMS) / np.log(full / SHORT_QUERY_TERMS)))
    return (
        float(short[0] + t * (long[0] - short[0])),
        float(short[1] + t * (long[1] - short[1])),
    )


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scores of each row mapped onto [0, 1] (a constant row becomes all 0), float32."""
    s = np.atleast_2d(np.asarray(scores, dtype=np.float32))
    lo, hi = s.min(axis=1, keepdims=True), s.max(axis=1, keepdims=True)
    out = (s - lo) / np.where(hi > lo, hi - lo, 1.0)
    return out if np.ndim(scores) == 2 else out[0]


def mix(
    lexical: np.ndarray,
    semantic: np.ndarray,
    weight: float,
    lsa: np.ndarray | None = None,
    lsa_weight: float = 0.0,
) -> np.ndarray:
    """``weight`` x the semantic (code) score plus ``lsa_weight`` x the LSA score plus the
    rest (1 minus both) x the lexical score, all already min-max scaled per query (row):
    scaling once serves many weights, as when pseudo-queries try every pair."""
    mixed = (1.0 - weight - lsa_weight) * lexical + weight * semantic
    if lsa is not None and lsa_weight > 0:
        mixed += lsa_weight * lsa
    return mixed


# The default ranking ranks twice: a query's code and LSA vector are moved toward the unit mean
# of the FEEDBACK_DOCS documents the fusion ranked first (Rocchio's pseudo-relevance feedback,
# in the learned spaces only; BM25 keeps the query's own words), the mean weighing
# FEEDBACK_WEIGHT against the unit query, and the fusion is computed again. Chosen on the
# validation queries of research/tune_model.py (bench/RESULTS.md): 20 Newsgroups
# subject lines P@10 0.614 -> 0.636, whole documents P@100 0.598 -> 0.616, titles' own
# abstract (MRR) Cranfield 0.650 -> 0.656, NPL 0.213 -> 0.216. More documents (5, 7) helped
# whole documents and cost titles; 2 or 3 helped all four, 3 at weight 1 most on titles.
FEEDBACK_DOCS = 3
FEEDBACK_WEIGHT = 1.0

Space = tuple[np.ndarray, np.ndarray]  # unit-length document vectors (N, d), a query's (d,)


def fuse_with_feedback(
    lexical: np.ndarray,
    codes: Space | None,
    weight: float,
    lsa: Space | None = None,
    lsa_weight: float = 0.0,
    docs: int = FEEDBACK_DOCS,
    moved: float = FEEDBACK_WEIGHT,
) -> np.ndarray:
    """One query's default-ranking scores: :func:`mix` of its min-max scaled ``lexical``
    scores (N,) with the min-max scaled cosines of its code and LSA vector to the documents'
    (each space given as unit document vectors and the query's vector, or None), then again
    with each query vector moved toward the unit mean of the ``docs`` best documents of that
    first fusion (``moved`` times it added to the unit query). Weights of 0 rank exactly as
    the lexical score does, and the LSA weight is not taken without LSA vectors; a space
    without weight is never read."""
    spaces = [
        (s[0], normalize_rows(np.asarray(s[1])[None])[0]) if s is not None and w > 0 else None
        for s, w in ((codes, weight), (lsa, lsa_weight))
    ]
    if spaces == [None, None]:
        return np.asarray(lexical, dtype=np.float32)

    scaled = min_max(lexical)  # once for both passes

    def fused(queries: list[np.ndarray | None]) -> np.ndarray:
        cosines = [
            None if q is None else min_max(s[0] @ q) for s, q in zip(spaces, queries, strict=True)
        ]
        semantic = cosines[0] if cosines[0] is not None else scaled  # weighs 0 then
        weights = (weight if spaces[0] else 0.0, lsa_weight if spaces[1] else 0.0)
        return mix(scaled, semantic, weights[0], cosines[1], weights[1])

    queries = [None if s is None else s[1] for s in spaces]
    first = fused(queries)
    if docs <= 0 or moved <= 0:
        return first
    top = top_k(first, docs)
    return fused(
        [
            None if s is None else s[1] + moved * normalize_rows(s[0][top].mean(0)[None])[0]
            for s in spaces
        ]
    )


def query_likelihood(
    hidden: np.ndarray,
    log_norms: np.ndarray,
    output: tuple[np.ndarray, np.ndarray],
    indices: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """Each document's mean log-probability (N,) of the query's words under the word
    distribution its code decodes to, the words weighted by the query's ``values`` (tf-idf).

    The decoder's softmax gives log p(w | d) = logit_dw - log_norms_d, and the logits are the
    output layer over ``hidden`` (N, H): so the query's words need only their own columns of
    the output ``(weight (H, V), bias (V,))``, and ranking is one (N, H) product. A query
    likelihood over a learned, smoothed document model (a short query's words are predicted
    by the document's topic, not only matched), from the codes alone.
    """
    weight, bias = output
    share = np.asarray(values, dtype=np.float32)
    share = share / share.sum()
    return hidden @ (weight[:, indices] @ share) + float(bias[indices] @ share) - log_norms


def query_likelihoods(
    hidden: np.ndarray, log_norms: np.ndarray, output: tuple[np.ndarray, np.ndarray], queries
) -> np.ndarray:
    """:func:`query_likelihood` of each row (Q, N) of ``queries``, a sparse CSR matrix over
    the model's vocabulary (their tf-idf); a row with no word scores 0 everywhere."""
    rows = []
    for i in range(queries.shape[0]):
        row = queries[i]
        if row.nnz == 0:  # no word in the model's vocabulary: nothing to rank by
            rows.append(np.zeros(len(hidden), dtype=np.float32))
        else:
            rows.append(query_likelihood(hidden, log_norms, output, row.indices, row.data))
    return np.stack(rows)


# The "likelihood" ranking adds this much of the code cosine to the likelihood (each min-max
# scaled per query): chosen on research/likelihood.py's validation queries, where 0.25 kept the
# likelihood's lead on the titles (Cranfield MRR 0.485 vs 0.482 alone and 0.377 for the cosine
# alone, NPL 0.130 vs 0.132 and 0.094) and passed both alone on 20 Newsgroups' subject lines
# (P@10 0.621 vs 0.607 and 0.613); 0.5 did better on 20 Newsgroups and lost on the titles.
LIKELIHOOD_COSINE = 0.25


def likelihood_ranking(
    likelihood: np.ndarray, cosine: np.ndarray, weight: float = LIKELIHOOD_COSINE
) -> np.ndarray:
    """The "likelihood" ranking's scores: :func:`query_likelihood`'s and the code cosine's,
    each min-max scaled per query (row), ``1 - weight`` and ``weight`` of them. The
    likelihood finds documents for a few typed words; the cosine keeps their topic, which the
    likelihood alone loses on longer queries."""
    return (1.0 - weight) * min_max(likelihood) + weight * min_max(cosine)


def pack_bits(codes: np.ndarray) -> np.ndarray:
    """Codes thresholded at 0.5 and packed into uint64 words: (N, ceil(D / 64)).

    Bit ``i`` of a code is bit ``i % 64`` (most significant first) of word ``i // 64``; unused
    trailing bits are zero, so they never add to a distance.
    """
    bits = np.asarray(codes) > 0.5
    n, d = bits.shape
    words = -(-d // 64)
    padded = np.zeros((n, words * 64), dtype=bool)
    padded[:, :d] = bits
    # packbits gives big-endian bytes; read them as big-endian uint64 for a stable layout.
    return np.packbits(padded, axis=1).view(">u8").astype(np.uint64)


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint64."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0: one hardware popcount per word
        return np.bitwise_count(x)
    as_bytes = np.ascontiguousarray(x).view(np.uint8).reshape(*x.shape, 8)
    return _BYTE_POPCOUNT[as_bytes].sum(axis=-1)


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming_distances(docs: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of one packed query (W,) to every packed document (N, W)."""
    return popcount(np.bitwise_xor(docs, query)).sum(axis=1, dtype=np.int64)


def smallest_k(distances: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Indices of the ``k`` smallest of small non-negative integers, nearest first, ties by index.

    Hamming distances take at most D + 1 values, so a histogram finds the cut-off distance in
    one pass and only the documents at or under it are sorted: on a million codes this is
    several times faster than ``argpartition``.
    """
    d = np.asarray(distances, dtype=np.int64)
    if exclude is not None:
        d = d.copy()
        d[exclude] = d.max() + 1  # beyond every other distance, so never under the cut-off
    k = max(0, min(k, len(d) - (exclude is not None)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    cut = int(np.searchsorted(np.cumsum(np.bincount(d)), k))  # smallest t with k at or under t
    candidates = np.flatnonzero(d <= cut)
    return candidates[np.lexsort((candidates, d[candidates]))][:k]

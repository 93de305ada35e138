"""Rankings by the learned codes: cosine of float codes; Hamming distance of binary codes
(semantic hashing, Salakhutdinov and Hinton 2009), optionally re-ranked; and the hybrid that
adds tf-idf cosine to the code cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from docret.errors import QueryError
from docret.rank.base import Scored, logits, matching, normalize_rows, top_k, vectorize, within

if TYPE_CHECKING:
    from docret.snapshot import Snapshot
    from docret.text import SparseVector

# The hybrid ranking adds this times the tf-idf cosine to the code cosine: the code finds the
# query's topic, the lexical part lifts the documents in it that share the query's words. 1.0
# was chosen on validation slices of 20 Newsgroups train (4 and 20 groups): better than 0.25
# and 0.5 on P@10 and MAP@100 on both, best or within 0.001 of the best on P@100
# (research/tune_model.py).
HYBRID_WEIGHT = 1.0


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


def smallest_k(
    distances: np.ndarray, k: int, exclude: int | None = None, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the ``k`` smallest of small non-negative integers, nearest first, ties by index
    (among the ``allowed`` rows only, where given).

    Hamming distances take at most D + 1 values, so a histogram finds the cut-off distance in
    one pass and only the documents at or under it are sorted: on a million codes this is
    several times faster than ``argpartition``.
    """
    if allowed is not None:
        rows = within(allowed, exclude)
        return rows[smallest_k(np.asarray(distances)[rows], k)]
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


def nearest(
    state: Snapshot,
    code: np.ndarray,
    k: int,
    rerank: int | None = None,
    exclude: int | None = None,
    vector: SparseVector | None = None,
    hybrid: bool = False,
    allowed: np.ndarray | None = None,
) -> Scored:
    """The ``k`` documents of ``state`` whose codes are closest to ``code`` (row ``exclude``
    left out). Float codes rank by cosine (``hybrid``: plus :data:`HYBRID_WEIGHT` times the
    tf-idf cosine of the query's ``vector``); binary codes by Hamming distance, the score
    being the share of matching bits, or with ``rerank`` the best that many by Hamming
    re-ordered by the cosine of the code layer's logits plus the query's tf-idf cosine.
    Without a query ``vector`` (a stored document's neighbours) every document is listed.
    With ``allowed`` (a filter's mask) only those rows are ranked, the re-ranked candidates
    taken among them."""
    if state.bits is None:
        scores = state.unit_codes @ normalize_rows(code[None])[0]
        lexical = None
        if hybrid and vector is not None:
            lexical = state.tfidf_by_term.scores(vector.indices, vector.values)
            scores += HYBRID_WEIGHT * lexical
        order = top_k(scores, k, exclude, allowed)
        listed = None if vector is None else matching(scores, lexical, allowed)
        return Scored(order, scores, listed)
    distances = hamming_distances(state.bits, pack_bits(code[None])[0])
    similarity = 1.0 - distances / state.encoder.code_size
    if not rerank:
        order = smallest_k(distances, k, exclude, allowed)
        listed = None if vector is None else matching(similarity, None, allowed)
        return Scored(order, similarity, listed)
    # Semantic hashing as a filter: the best `rerank` by Hamming distance, re-ordered by the
    # cosine of the code layer's logits (the activations themselves are mostly pinned near 0
    # or 1, so they order candidates poorly) plus, for a text query, its tf-idf cosine
    # (research/tune_model.py).
    candidates = smallest_k(distances, max(rerank, k), exclude, allowed)
    scores = state.unit_logits[candidates] @ normalize_rows(logits(code[None]))[0]
    if vector is not None:
        scores = scores + state.tfidf_by_term.scores(vector.indices, vector.values)[candidates]
    order = candidates[top_k(scores, k)]
    full = np.zeros(len(state.ids), dtype=np.float32)
    full[candidates] = scores
    if vector is None:
        return Scored(order, full)
    listed = np.zeros(len(state.ids), dtype=bool)
    listed[candidates] = matching(scores)  # the candidates are all a rerank ranks
    return Scored(order, full, listed)


def _by_codes(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None,
    hybrid: bool,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    vectors = [vectorize(state, t) for t in texts]
    if hybrid and state.bits is not None:
        raise QueryError(
            "The hybrid ranking needs float codes; a binary index adds tf-idf cosine when "
            "it re-ranks (--rerank N)"
        )
    codes = state.encoder.encode(vectors)  # (Q, D), one batch
    return [
        nearest(state, code, k, rerank, vector=v, hybrid=hybrid, allowed=allowed)
        for code, v in zip(codes, vectors, strict=True)
    ]


def codes(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """The codes alone (:func:`nearest`): cosine of float codes, Hamming distance of binary
    ones (re-ranked with ``rerank``)."""
    return _by_codes(state, texts, k, rerank, False, allowed)


def hybrid(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """Code cosine plus :data:`HYBRID_WEIGHT` times tf-idf cosine: the code finds the query's
    topic, the words lift the documents in it that share them. Float codes only."""
    return _by_codes(state, texts, k, rerank, True, allowed)


def similar(state: Snapshot, row: int, k: int) -> Scored:
    """The stored document at ``row``'s nearest codes, itself left out."""
    return nearest(state, state.codes[row], k, exclude=row)

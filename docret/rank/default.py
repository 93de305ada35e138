"""The default ranking: BM25 fused with the code cosine and the LSA cosine at the weights the
corpus' pseudo-queries chose (:mod:`docret.rank.calibrate`), the weights moving with the
query's length, ranked twice with pseudo-relevance feedback in the learned spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from docret.rank.base import Scored, min_max, normalize_rows, scored, top_k
from docret.rank.lexical import bm25_scores

if TYPE_CHECKING:
    from docret.rank.choice import FusionChoice
    from docret.snapshot import Snapshot

# A typed question gets the corpus' weights for short queries; a longer one moves on a log scale
# toward the corpus' weights for long queries (chosen on pseudo-queries as long as a paragraph,
# docret.rank.calibrate), reached at their median length (at least 2 x SHORT_QUERY_TERMS). How
# much the codes should weigh for a question written as a paragraph differs by corpus: LISA's
# paragraph questions reach MAP 0.317 with its own long pair, 0.198 with codes 0.8 and LSA 0.1
# (research/length_rule.py; BM25 0.302).
SHORT_QUERY_TERMS = 12


def long_from_terms(long_terms: float) -> float:
    """From how many terms a query gets the long pair whole (:func:`query_weights`), given
    the median number of terms ``long_terms`` of the pseudo-queries that chose it."""
    return max(2 * SHORT_QUERY_TERMS, long_terms)


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
    full = long_from_terms(long_terms)
    t = min(1.0, float(np.log(n_terms / SHORT_QUERY_TERMS) / np.log(full / SHORT_QUERY_TERMS)))
    return (
        float(short[0] + t * (long[0] - short[0])),
        float(short[1] + t * (long[1] - short[1])),
    )


def mix(
    lexical: np.ndarray,
    codes: np.ndarray,
    codes_weight: float,
    lsa: np.ndarray | None = None,
    lsa_weight: float = 0.0,
) -> np.ndarray:
    """``codes_weight`` x the code cosine plus ``lsa_weight`` x the LSA cosine plus the rest
    (1 minus both) x the lexical score, all already min-max scaled per query (row): scaling
    once serves many weights, as when pseudo-queries try every pair."""
    mixed = (1.0 - codes_weight - lsa_weight) * lexical + codes_weight * codes
    if lsa is not None and lsa_weight > 0:
        mixed += lsa_weight * lsa
    return mixed


# The default ranking ranks twice: a query's code and LSA vector are moved toward the unit mean
# of the FEEDBACK_DOCS documents the fusion ranked first (Rocchio's pseudo-relevance feedback,
# in the learned spaces only; BM25 keeps the query's own words), the mean weighing
# FEEDBACK_WEIGHT against the unit query, and the fusion is computed again. Chosen on the
# validation queries of research/tune_model.py (research/FINDINGS.md, "Feedback in the learned
# spaces"): 20 Newsgroups
# subject lines P@10 0.614 -> 0.636, whole documents P@100 0.598 -> 0.616, titles' own
# abstract (MRR) Cranfield 0.650 -> 0.656, NPL 0.213 -> 0.216. More documents (5, 7) helped
# whole documents and cost titles; 2 or 3 helped all four, 3 at weight 1 most on titles.
FEEDBACK_DOCS = 3
FEEDBACK_WEIGHT = 1.0

Pair = tuple[float, float]  # (weight of the code cosine, weight of the LSA cosine)
Space = tuple[np.ndarray, np.ndarray]  # unit-length document vectors (N, d), a query's (d,)


def fuse_with_feedback(
    lexical: np.ndarray,
    codes: Space | None,
    codes_weight: float,
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
        for s, w in ((codes, codes_weight), (lsa, lsa_weight))
    ]
    if spaces == [None, None]:
        return np.asarray(lexical, dtype=np.float32)

    scaled = min_max(lexical)  # once for both passes

    def fused(queries: list[np.ndarray | None]) -> np.ndarray:
        cosines = [
            None if q is None else min_max(s[0] @ q) for s, q in zip(spaces, queries, strict=True)
        ]
        code = cosines[0] if cosines[0] is not None else scaled  # weighs 0 then
        weights = (codes_weight if spaces[0] else 0.0, lsa_weight if spaces[1] else 0.0)
        return mix(scaled, code, weights[0], cosines[1], weights[1])

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


def weights(choice: FusionChoice, n_terms: float, known: bool, has_lsa: bool) -> Pair:
    """The (codes, LSA) weights of one query against BM25: the pair ``choice`` gives a query
    of ``n_terms`` terms (:meth:`~docret.rank.choice.FusionChoice.weights_for`), LSA's set to
    0 for an index without LSA directions, and both 0 (BM25 alone) for a query with no word
    the model knows (``known`` False): its code would say nothing of it."""
    if not known:
        return (0.0, 0.0)
    codes, lsa = choice.weights_for(n_terms)
    return (codes, lsa if has_lsa else 0.0)


def fuse(lexical: np.ndarray, pair: Pair, codes: Space | None, lsa: Space | None) -> np.ndarray:
    """One query's default-ranking scores: its BM25 scores ``lexical`` (N,) alone when both
    weights of ``pair`` are 0, else :func:`fuse_with_feedback` with the code and LSA spaces
    (None where its weight is 0)."""
    if pair[0] <= 0 and pair[1] <= 0:
        return lexical
    return fuse_with_feedback(lexical, codes, pair[0], lsa, pair[1])


def default(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """The default ranking of an index: BM25 fused with the code cosine and the LSA cosine
    (:func:`weights`, :func:`fuse`); a binary index ranks by its codes' Hamming distance
    (:func:`docret.rank.codes.codes`, re-ranked with ``rerank``). It lists the documents
    that hold a query term and those ranked at least as high as one of them. A filter
    (``allowed``) leaves the scores as they are, feedback included, and only narrows what is
    listed."""
    if state.bits is not None:
        from docret.rank.codes import codes

        return codes(state, texts, k, rerank, allowed)
    out = []
    for text in texts:
        lexical, n_terms = bm25_scores(state, text)
        vector = state.vectorizer.transform_one(text)
        pair = weights(state.fusion, n_terms, len(vector.indices) > 0, state.lsa is not None)
        code = (state.unit_codes, state.encoder.encode([vector])[0]) if pair[0] > 0 else None
        lsa = (state.unit_lsa, state.lsa_of(vector)) if pair[1] > 0 else None
        scores = fuse(lexical, pair, code, lsa)
        out.append(scored(scores, k, None if scores is lexical else lexical, allowed=allowed))
    return out


def described(state: Snapshot) -> str:
    """The default ranking of ``state`` in words: BM25 and the scores that weigh in it ("BM25
    + LSA" where the pseudo-queries gave the codes no weight), or the binary codes' Hamming
    distance."""
    if state.bits is not None:
        return "Learned codes (Hamming)"
    lsa = state.fusion.lsa if state.lsa is not None else 0.0
    parts = [n for n, w in (("learned codes", state.fusion.codes), ("LSA", lsa)) if w > 0]
    return " + ".join(["BM25", *parts])

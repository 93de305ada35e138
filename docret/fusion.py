"""How much the codes weigh against BM25 in the default ranking, chosen per corpus at index time.

No judged query exists when a folder is indexed, so the corpus supplies its own: a span of a
few words cut out of a document is a pseudo-query whose answer is that document. The span is
held out (the answer is scored as the document *without* it), so the pseudo-query does not
share its exact words with its answer by construction, as a typed question does not; what
still ties them is the rest of the document's words and topic. Each weight on
:data:`FUSION_WEIGHTS` ranks every pseudo-query, the mean reciprocal rank of the answers is
measured, and :func:`choose_weight` takes the smallest weight that reaches half of the best
gain over weight 0 (BM25 alone), so a corpus where the codes do not help gets plain BM25.
Queries longer than a typed question weigh the codes more (:func:`docret.ranking.query_weight`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from docret.lexicon import LexicalIndex, query_terms
from docret.ranking import Bm25, fuse, normalize_rows

FUSION_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(10))  # 0.0 .. 0.9
PSEUDO_QUERIES = 1000
SPAN_WORDS = (5, 12)  # a typed question's length, stop words included
MIN_PSEUDO_QUERIES = 20  # fewer say nothing reliable: keep BM25 alone
CHUNK = 50  # pseudo-queries scored at a time


@dataclass(frozen=True)
class PseudoQuery:
    """A span of ``doc``'s words (``text``) and the document without it (``rest``)."""

    doc: int
    text: str
    rest: str


@dataclass
class FusionChoice:
    """The chosen weight of the codes, and the mean reciprocal rank each weight reached."""

    weight: float
    mrr: dict[float, float] = field(default_factory=dict)
    queries: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored with the model)."""
        return {
            "weight": self.weight,
            "queries": self.queries,
            "mrr": {str(w): round(v, 4) for w, v in self.mrr.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionChoice:
        """Inverse of :meth:`to_dict`."""
        mrr = {float(w): float(v) for w, v in data.get("mrr", {}).items()}
        return cls(float(data["weight"]), mrr, int(data.get("queries", 0)))


def pseudo_queries(
    texts: Sequence[str],
    n: int = PSEUDO_QUERIES,
    seed: int = 0,
    span: tuple[int, int] = SPAN_WORDS,
) -> list[PseudoQuery]:
    """Up to ``n`` pseudo-queries from documents long enough to keep most of their words after
    a span is cut out (at least three spans' worth), seeded."""
    rng = np.random.default_rng(seed)
    words = [t.split() for t in texts]
    eligible = [i for i, w in enumerate(words) if len(w) >= 3 * span[1]]
    picked = sorted(rng.choice(eligible, size=min(n, len(eligible)), replace=False).tolist())
    out = []
    for i in picked:
        w = words[i]
        length = int(rng.integers(span[0], span[1] + 1))
        start = int(rng.integers(0, len(w) - length + 1))
        end = start + length
        out.append(PseudoQuery(i, " ".join(w[start:end]), " ".join(w[:start] + w[end:])))
    return out


def reciprocal_ranks(scores: np.ndarray, answers: Sequence[int]) -> np.ndarray:
    """1 / rank of each row's answer, ranked as :func:`~docret.ranking.top_k` ranks (higher
    score first, ties to the lower index)."""
    answers = np.asarray(answers)
    rows = np.arange(len(answers))
    own = scores[rows, answers][:, None]
    before = np.arange(scores.shape[1])[None, :] < answers[:, None]
    ahead = (scores > own) | ((scores == own) & before)
    return 1.0 / (1.0 + ahead.sum(axis=1))


def mean_reciprocal_ranks(
    lexical: np.ndarray,
    semantic: np.ndarray,
    answers: Sequence[int],
    weights: Sequence[float] = FUSION_WEIGHTS,
) -> dict[float, float]:
    """Mean reciprocal rank of the answers under the fusion at each weight."""
    return {w: float(reciprocal_ranks(fuse(lexical, semantic, w), answers).mean()) for w in weights}


def choose_weight(mrr: dict[float, float], queries: int) -> FusionChoice:
    """The smallest weight that reaches half of the best gain in mean reciprocal rank over
    BM25 alone (weight 0), or 0 if no weight gains.

    Not the arg-max: a held-out span shares fewer words with its answer than a typed question
    shares with a relevant document, so pseudo-queries understate BM25 and their best weight
    overstates the codes (bench/RESULTS.md). Half the gain keeps most of it at a smaller weight.
    """
    base = mrr[min(mrr)]
    gain = max(mrr.values()) - base
    if gain <= 0:
        return FusionChoice(0.0, mrr, queries)
    weight = min(w for w, v in mrr.items() if v - base >= gain / 2)
    return FusionChoice(weight, mrr, queries)


def calibrate(
    texts: Sequence[str],
    analyze: Callable[[str], list[str]],
    lexicon: dict[str, int],
    bm25: Bm25,
    codes: np.ndarray,
    encode: Callable[[list[str]], np.ndarray],
    seed: int = 0,
    span: tuple[int, int] = SPAN_WORDS,
    n: int = PSEUDO_QUERIES,
) -> FusionChoice:
    """Choose the fusion weight of a corpus from its pseudo-queries.

    ``texts`` and ``codes`` (N, D) are the indexed documents and their codes, ``bm25`` their
    BM25 over ``lexicon`` (stems from ``analyze``); ``encode`` turns texts into codes.
    """
    found = [q for q in pseudo_queries(texts, n, seed, span) if analyze(q.text)]
    if len(found) < MIN_PSEUDO_QUERIES:
        return FusionChoice(0.0, {}, len(found))
    codes = normalize_rows(codes)
    total = dict.fromkeys(FUSION_WEIGHTS, 0.0)
    for start in range(0, len(found), CHUNK):  # (chunk, N) score matrices bound the memory
        part = found[start : start + CHUNK]
        terms = [query_terms(analyze, q.text, lexicon) for q in part]
        lexical = np.stack([bm25.scores(ids, counts) for ids, counts in terms])
        embedded = normalize_rows(encode([q.text for q in part] + [q.rest for q in part]))
        queries, rests = embedded[: len(part)], embedded[len(part) :]
        semantic = queries @ codes.T
        for r, q in enumerate(part):
            # The answer is the document without the span: score what is left of it.
            rest_ids, rest_counts = query_terms(analyze, q.rest, lexicon)
            lexical[r, q.doc] = bm25.score_text(*terms[r], rest_ids, rest_counts)
            semantic[r, q.doc] = queries[r] @ rests[r]
        mrr = mean_reciprocal_ranks(lexical, semantic, [q.doc for q in part])
        for w, v in mrr.items():
            total[w] += v * len(part)
    return choose_weight({w: v / len(found) for w, v in total.items()}, len(found))


def choose_for_index(
    texts: Sequence[str], encoder: Any, codes: np.ndarray, seed: int = 0
) -> tuple[LexicalIndex, FusionChoice]:
    """The lexicon and BM25 of a new index and its fusion weight, from a fitted
    :class:`~docret.encoder.Encoder` and the documents' ``codes``. A binary index ranks by
    Hamming distance and is not fused: its weight stays 0."""
    analyzer = encoder.analyzer_
    lexical = LexicalIndex.from_tokens(map(analyzer, texts))
    if encoder.binary:
        return lexical, FusionChoice(0.0)
    # Encoding pseudo-queries is no progress stage of its own: keep it off the "Encoding" bar.
    progress, encoder.progress = encoder.progress, None
    try:
        choice = calibrate(
            texts, analyzer, lexical.lexicon, lexical.bm25, codes, encoder.transform, seed
        )
    finally:
        encoder.progress = progress
    return lexical, choice

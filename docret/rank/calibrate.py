"""How much the codes and LSA weigh against BM25 in the default ranking, chosen per corpus at
index time.

No judged query exists when a folder is indexed, so the corpus supplies its own: a span of a
few words cut out of a document is a pseudo-query whose answer is that document. The span is
held out (the answer is scored as the document *without* it), so the pseudo-query does not
share its exact words with its answer by construction, as a typed question does not; what
still ties them is the rest of the document's words and topic. Each pair of weights on
:data:`FUSION_GRID` (the code cosine's, the LSA cosine's; BM25 gets the rest) ranks every
pseudo-query, the mean reciprocal rank of the answers is measured, and :func:`choose_weight`
takes the smallest total weight that reaches half of the best gain over BM25 alone, so a
corpus where neither semantic score helps gets plain BM25. Queries as long as a paragraph get
a pair chosen by the same rules on pseudo-queries of that length (:data:`LONG_SPAN_WORDS`),
and queries in between move from one pair to the other (:func:`docret.rank.default.query_weights`).

Such a pseudo-query has one answer, as a search for a known document has. A question on a
topic has many, and wants the semantic scores weighed more. So the same pseudo-queries are
also answered topically: where the documents carry labels (a folder per topic, a labelled
corpus), by every document sharing a label with theirs; otherwise by the :data:`NEIGHBOURS`
documents nearest to theirs by whole-document tf-idf cosine (:func:`neighbour_topics`), a
topic that the words of the whole documents define, not the codes or LSA being weighed. The
pair with the best precision of their top :data:`TOPICAL_K` is taken (:func:`choose_topical`;
for neighbours, which only stand in for topics, the smallest weights within a standard error of
it), if it beats BM25 alone clearly; labels that say nothing of topics (say, a folder per year)
leave the choice to the neighbours, and neighbours that BM25 finds as well as any pair leave
it to the known-item rule above.

BM25's own parameters come first, from the same pseudo-queries: each (k1, b) of
:data:`BM25_GRID` ranks them by BM25 alone, and the best replaces bm25s' (1.5, 0.75) only if it
finds their answers clearly better (:func:`choose_bm25`). NPL's short abstracts, for one, get
less length normalisation (bench/RESULTS.md, "Default ranking").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from docret.lexicon import LexicalIndex, TermCounts, count_corpus, query_terms
from docret.rank.base import min_max, normalize_rows
from docret.rank.choice import FusionChoice, Pair
from docret.rank.default import mix
from docret.rank.lexical import BM25_B, BM25_K1, Bm25, matched_counts

FUSION_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(10))  # 0.0 .. 0.9
# (codes, LSA) weight pairs; BM25 keeps 1 - their sum, at least 0.1.
FUSION_GRID = tuple((a, b) for a in FUSION_WEIGHTS for b in FUSION_WEIGHTS if a + b < 0.95)
CODES_ONLY = tuple((a, 0.0) for a in FUSION_WEIGHTS)  # an index without LSA directions
PSEUDO_QUERIES = 1000
SPAN_WORDS = (5, 12)  # a typed question's length, stop words included
# A question written as a paragraph (LISA's queries have a median of 49 words): the long
# pseudo-queries that choose the weights of long queries (docret.rank.default.query_weights).
LONG_SPAN_WORDS = (25, 60)
MIN_PSEUDO_QUERIES = 20  # fewer say nothing reliable: keep BM25 alone
CHUNK = 50  # pseudo-queries scored at a time
CALIBRATION_DOCS = 50_000  # larger corpora choose their weights on a sample this large
TOPICAL_K = 10  # labelled corpora: precision of each pseudo-query's top 10 by label
# The best pair's precision must beat BM25 alone's by this many standard errors of the paired
# per-query differences: the best of 55 pairs beats BM25 by chance alone on labels that say
# nothing of topics.
TOPICAL_MARGIN = 3.0
# Unlabelled corpora: a pseudo-query's topical answers are its document's nearest neighbours by
# whole-document tf-idf cosine, this many (research/neighbours.py: 5, 10 and 20 chose alike).
NEIGHBOURS = 10
# Neighbours stand in for topics, so their choice is the smallest total weight whose precision
# is within this many standard errors of the best pair's (Breiman's one-standard-error rule):
# on research/neighbours.py's slices it keeps most of the best pair's gain on typed topical
# questions and loses less of the known-item search (Cranfield titles MRR 0.645 against 0.588).
NEIGHBOURS_WITHIN = 1.0
# Okapi BM25's (k1, b) tried on the pseudo-queries. The best of the grid replaces bm25s' defaults
# (BM25_K1, BM25_B) only if it beats them by BM25_MARGIN standard errors of the per-query
# differences in reciprocal rank: the best of 20 settings beats the defaults by chance alone.
BM25_GRID = tuple((k1, b) for k1 in (0.6, 0.9, 1.2, 1.5, 2.0) for b in (0.3, 0.5, 0.75, 0.9))
BM25_MARGIN = 3.0


@dataclass(frozen=True)
class PseudoQuery:
    """A span of ``doc``'s words (``text``) and the document without it (``rest``)."""

    doc: int
    text: str
    rest: str


# A chunk of pseudo-queries' documents (indices) -> (len, N) bool: their topical answers.
Topics = Callable[[np.ndarray], np.ndarray]


def pseudo_queries(
    texts: Sequence[str],
    n: int = PSEUDO_QUERIES,
    seed: int = 0,
    span: tuple[int, int] = SPAN_WORDS,
    among: Sequence[int] | None = None,
) -> list[PseudoQuery]:
    """Up to ``n`` pseudo-queries from documents long enough to keep most of their words after
    a span is cut out (at least three spans' worth), seeded; from the documents ``among``
    (indices into ``texts``) only, if given."""
    rng = np.random.default_rng(seed)
    # Only the picked documents' words are kept: all of them would dwarf the corpus' text.
    rows = enumerate(texts) if among is None else ((i, texts[i]) for i in sorted(among))
    eligible = [i for i, t in rows if len(t.split()) >= 3 * span[1]]
    picked = sorted(rng.choice(eligible, size=min(n, len(eligible)), replace=False).tolist())
    out = []
    for i in picked:
        w = texts[i].split()
        length = int(rng.integers(span[0], span[1] + 1))
        start = int(rng.integers(0, len(w) - length + 1))
        end = start + length
        out.append(PseudoQuery(i, " ".join(w[start:end]), " ".join(w[:start] + w[end:])))
    return out


def reciprocal_ranks(scores: np.ndarray, answers: Sequence[int]) -> np.ndarray:
    """1 / rank of each row's answer, ranked as :func:`~docret.rank.base.top_k` ranks (higher
    score first, ties to the lower index)."""
    answers = np.asarray(answers)
    rows = np.arange(len(answers))
    own = scores[rows, answers][:, None]
    before = np.arange(scores.shape[1])[None, :] < answers[:, None]
    ahead = (scores > own) | ((scores == own) & before)
    return 1.0 / (1.0 + ahead.sum(axis=1))


def _fusions(
    lexical: np.ndarray, semantic: np.ndarray, grid: Sequence[Pair], lsa: np.ndarray | None
) -> Iterator[tuple[Pair, np.ndarray]]:
    """The fused (rows, N) scores at each pair of ``grid``, a new array each; every score is
    min-max scaled once, not once per pair."""
    lexical, semantic = min_max(lexical), min_max(semantic)
    lsa = None if lsa is None else min_max(lsa)
    for a, b in grid:
        yield (a, b), mix(lexical, semantic, a, lsa, b)


def _precisions(
    fused: np.ndarray, answers: Sequence[np.ndarray], own: Sequence[int], k: int = TOPICAL_K
) -> list[np.ndarray]:
    """:func:`precisions_by_label` at one pair (``fused``, which it overwrites): each row's
    precision at ``k`` for each of ``answers``, (rows, N) masks of the rows' topical
    answers (one ranking, several sets of answers)."""
    rows = np.arange(len(fused))
    k = min(k, fused.shape[1] - 1)  # the own document is not a candidate
    if k < 1:
        return [np.zeros(len(rows)) for _ in answers]
    fused[rows, np.asarray(own)] = -np.inf
    # The top k of every row at once (their order does not matter to a precision).
    top = np.argpartition(-fused, k - 1, axis=1)[:, :k]
    return [marked[rows[:, None], top].sum(axis=1) / k for marked in answers]


def choose_topical(
    precisions: dict[Pair, np.ndarray],
    fallback: FusionChoice,
    by: str = "labels",
    within: float = 0.0,
) -> FusionChoice:
    """The pair whose pseudo-queries' mean precision of topical answers (``by`` labels or
    neighbours) is best (the smaller total weight of equals), if it beats BM25 alone (0, 0)
    by :data:`TOPICAL_MARGIN` standard errors of the per-query differences; else
    ``fallback`` (the known-item choice). Both keep the precisions. With ``within`` > 0,
    the pair of smallest total weight whose precision is within that many standard errors
    of the best's (of the paired differences) is taken in the best's place."""
    means = {p: float(v.mean()) for p, v in precisions.items()}
    best = max(means, key=lambda p: (means[p], -round(p[0] + p[1], 6), -p[1]))
    if not _clearly_better(precisions[best], precisions[(0.0, 0.0)], TOPICAL_MARGIN):
        return replace(fallback, topical=means)
    if within > 0:
        near = [p for p in means if not _clearly_better(precisions[best], precisions[p], within)]
        best = min(near, key=lambda p: (round(p[0] + p[1], 6), -means[p], p[1]))
    return replace(fallback, codes=best[0], lsa=best[1], topical=means, chosen_by=by)


def _clearly_better(candidate: np.ndarray, baseline: np.ndarray, margin: float) -> bool:
    """Whether the per-query scores ``candidate`` beat ``baseline``'s by more than ``margin``
    standard errors of their paired differences (never, with fewer than two queries)."""
    diff = candidate - baseline
    if len(diff) < 2:
        return False
    return bool(diff.mean() > margin * float(diff.std(ddof=1) / np.sqrt(len(diff))))


def choose_weight(mrr: dict[Pair, float], queries: int) -> FusionChoice:
    """The pair of smallest total weight that reaches half of the best gain in mean
    reciprocal rank over BM25 alone (0, 0), the better of equal totals; (0, 0) if no pair
    gains.

    Not the arg-max: a held-out span shares fewer words with its answer than a typed question
    shares with a relevant document, so pseudo-queries understate BM25 and their best weights
    overstate the semantic scores. Half the gain keeps most of it at smaller weights
    (research/neighbours.py compares the rules on validation slices).
    """
    base = mrr[(0.0, 0.0)]
    gain = max(mrr.values()) - base
    if gain <= 0:
        return FusionChoice(0.0, mrr, queries)
    reached = [p for p, v in mrr.items() if v - base >= gain / 2]
    a, b = min(reached, key=lambda p: (round(p[0] + p[1], 6), -mrr[p], p[1]))
    return FusionChoice(a, mrr, queries, b)


@dataclass(frozen=True)
class Spaces:
    """The documents' vectors the fusion weighs against BM25: their ``codes`` (N, D) and, if
    the index has them, their ``lsa`` vectors (N, k); ``embed`` turns texts into arrays in
    the same spaces, codes first (one vectorisation for both)."""

    codes: np.ndarray
    embed: Callable[[list[str]], Sequence[np.ndarray]]
    lsa: np.ndarray | None = None

    @property
    def with_lsa(self) -> bool:
        """Whether LSA is weighed too (LSA vectors of at least one dimension)."""
        return self.lsa is not None and self.lsa.shape[1] > 0


@dataclass(frozen=True)
class Draw:
    """How pseudo-queries are cut: ``n`` of ``span`` words (and as many of ``long_span``
    words for long queries) from the documents ``among`` (None: any), with ``seed``."""

    seed: int = 0
    n: int = PSEUDO_QUERIES
    span: tuple[int, int] = SPAN_WORDS
    long_span: tuple[int, int] = LONG_SPAN_WORDS
    among: Sequence[int] | None = None


@dataclass(frozen=True)
class Topical:
    """What answers a pseudo-query topically: the documents sharing a label with its own
    (``labels``, one sequence per text), where labels tell topics apart, else the
    ``neighbours`` nearest to its own in ``tfidf`` (the documents' L2-normalised tf-idf rows,
    sparse; None: no neighbours), whose choice takes the smallest weights ``within``
    standard errors of their best."""

    labels: Sequence[Sequence[str]] | None = None
    tfidf: Any = None
    neighbours: int = NEIGHBOURS
    within: float = NEIGHBOURS_WITHIN


def calibrate(
    texts: Sequence[str],
    analyze: Callable[[str], list[str]],
    lexical: LexicalIndex,
    spaces: Spaces | None,
    draw: Draw = Draw(),
    topical: Topical = Topical(),
) -> FusionChoice:
    """Choose the default ranking of a corpus from its pseudo-queries.

    ``texts`` are the indexed documents, ``lexical`` their lexicon and BM25 (stems from
    ``analyze``), ``spaces`` their codes and LSA vectors (None: a binary index, which is not
    fused: only BM25's parameters are chosen). BM25's parameters come first
    (:func:`choose_bm25`); then the (codes, LSA) pair by known items (:func:`choose_weight`)
    unless a topical rule chooses (:func:`choose_topical`, by ``topical``'s labels, else its
    neighbours: labels count only where at least two distinct ones are among the
    pseudo-queries' documents, and :data:`MIN_PSEUDO_QUERIES` of those are labelled); then
    the pair of long queries, by the same rules on pseudo-queries of ``draw.long_span`` words.
    """
    lexicon, bm25 = lexical.lexicon, lexical.bm25
    found, terms, rests = _pseudo_queries(texts, analyze, lexicon, draw, draw.span)
    if len(found) < MIN_PSEUDO_QUERIES:
        return FusionChoice(0.0, {}, len(found))
    reciprocal = bm25_reciprocal_ranks(found, terms, rests, bm25)
    k1, b = choose_bm25(reciprocal)
    bm25_mrr = {setting: float(rr.mean()) for setting, rr in reciprocal.items()}
    if spaces is None:
        return FusionChoice(0.0, {}, len(found), k1=k1, b=b, bm25_mrr=bm25_mrr)
    if (k1, b) != (bm25.k1, bm25.b):
        bm25 = bm25.with_parameters(k1, b)
    topics: dict[str, Topics] = {}
    sets = _label_sets(topical.labels, [q.doc for q in found])
    if sets is not None:
        topics["labels"] = label_topics(sets)
    if topical.tfidf is not None:
        topics["neighbours"] = neighbour_topics(topical.tfidf, topical.neighbours)
    within = topical.within
    choice = _calibrate_weights(found, terms, rests, bm25, spaces, topics, within)
    choice = replace(choice, k1=k1, b=b, bm25_mrr=bm25_mrr)
    # Long queries: the same rules on long pseudo-queries, where the corpus has such documents.
    found, terms, rests = _pseudo_queries(texts, analyze, lexicon, draw, draw.long_span)
    if len(found) < MIN_PSEUDO_QUERIES:
        return choice
    longer = _calibrate_weights(found, terms, rests, bm25, spaces, topics, within)
    return replace(
        choice,
        long=(longer.codes, longer.lsa),
        long_queries=len(found),
        long_terms=float(np.median([counts.sum() for _, counts in terms])),
        long_chosen_by=longer.chosen_by,
    )


def _pseudo_queries(
    texts: Sequence[str],
    analyze: Callable[[str], list[str]],
    lexicon: dict[str, int],
    draw: Draw,
    span: tuple[int, int],
) -> tuple[list[PseudoQuery], list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, float]]]:
    """The :func:`pseudo_queries` with a word in ``lexicon``, their terms (ids and counts)
    and how often those terms occur in the rest of their documents, with its length."""
    found = [
        q for q in pseudo_queries(texts, draw.n, draw.seed, span, draw.among) if analyze(q.text)
    ]
    terms = [query_terms(analyze, q.text, lexicon) for q in found]
    rests = [
        matched_counts(ids, *query_terms(analyze, q.rest, lexicon))
        for q, (ids, _) in zip(found, terms, strict=True)
    ]
    return found, terms, rests


def label_topics(sets: Sequence[frozenset[str]]) -> Topics:
    """:data:`Topics` by labels: a document's answers share a label with it (``sets``, each
    document's labels)."""
    import scipy.sparse as sp

    names = {name: j for j, name in enumerate(sorted(frozenset().union(*sets)))}
    rows = [i for i, labels in enumerate(sets) for _ in labels]
    cols = [names[name] for labels in sets for name in labels]
    incidence = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sets), len(names))
    )
    return lambda docs: (incidence[docs] @ incidence.T).toarray() > 0


def neighbour_topics(tfidf: Any, k: int = NEIGHBOURS) -> Topics:
    """:data:`Topics` by neighbours: a document's answers are its ``k`` nearest others by the
    cosine of the L2-normalised tf-idf rows ``tfidf`` (sparse; one of cosine 0 never is),
    the documents on its topic as the words of whole documents tell."""
    k = min(k, tfidf.shape[0] - 1)

    def answers(docs: np.ndarray) -> np.ndarray:
        rows = np.arange(len(docs))[:, None]
        sims = (tfidf[docs] @ tfidf.T).toarray()
        sims[rows[:, 0], docs] = 0.0
        near = np.zeros(sims.shape, dtype=bool)
        if k > 0:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            near[rows, top] = sims[rows, top] > 0
        return near

    return answers


def _calibrate_weights(
    found: Sequence[PseudoQuery],
    terms: Sequence[tuple[np.ndarray, np.ndarray]],
    rests: Sequence[tuple[np.ndarray, float]],
    bm25: Bm25,
    spaces: Spaces,
    topics: dict[str, Topics],
    within: float = 0.0,
) -> FusionChoice:
    """:func:`calibrate`'s fusion weights, from the pseudo-queries ``found``, their
    ``terms`` and ``rests`` (as :func:`_lexical` takes them), BM25 at the chosen parameters
    and ``topics`` ("labels" and/or "neighbours"): which documents answer a pseudo-query
    topically. A pseudo-query with no such answer but its own document counts in none."""
    with_lsa = spaces.with_lsa
    grid = FUSION_GRID if with_lsa else CODES_ONLY
    embed = spaces.embed
    units = [normalize_rows(spaces.codes), *([normalize_rows(spaces.lsa)] if with_lsa else [])]
    precisions: dict[str, dict[Pair, list[np.ndarray]]] = {
        by: {p: [] for p in grid} for by in topics
    }
    total = dict.fromkeys(grid, 0.0)
    for start in range(0, len(found), CHUNK):  # (chunk, N) score matrices bound the memory
        part = found[start : start + CHUNK]
        chunk = slice(start, start + CHUNK)
        lexical = _lexical(part, terms[chunk], rests[chunk], bm25)
        embedded = embed([q.text for q in part] + [q.rest for q in part])
        semantic = [_cosines(part, docs, e) for docs, e in zip(units, embedded, strict=False)]
        answers = [q.doc for q in part]
        marks = [find(np.asarray(answers)) for find in topics.values()]
        for marked in marks:
            marked[np.arange(len(part)), answers] = False  # the own document is no topic
        kept = [marked.any(axis=1) for marked in marks]
        # Each pair's fusion serves every measure: the known-item one, then the topical ones
        # (which leave it changed only where the own documents are).
        for pair, fused in _fusions(lexical, semantic[0], grid, semantic[1] if with_lsa else None):
            total[pair] += float(reciprocal_ranks(fused, answers).mean()) * len(part)
            if marks:
                scores = _precisions(fused, marks, answers)
                for by, p, rows in zip(topics, scores, kept, strict=True):
                    precisions[by][pair].append(p[rows])
    choice = choose_weight({p: v / len(found) for p, v in total.items()}, len(found))
    for by in ("labels", "neighbours"):  # labels first: they say what a topic is
        if by in precisions:
            choice = choose_topical(
                {p: np.concatenate(v) for p, v in precisions[by].items()},
                choice,
                by,
                within if by == "neighbours" else 0.0,
            )
            if choice.chosen_by == by:
                break
    return choice


def _lexical(
    part: Sequence[PseudoQuery],
    terms: Sequence[tuple[np.ndarray, np.ndarray]],
    rests: Sequence[tuple[np.ndarray, float]],
    bm25: Bm25,
) -> np.ndarray:
    """(len(part), N) BM25 scores of the pseudo-queries ``part`` (their ``terms``: ids and
    counts), each answer scored against the rest of its document (``rests``: how often the
    pseudo-query's terms occur in it and its length,
    :func:`~docret.rank.lexical.matched_counts`)."""
    lexical = np.stack([bm25.scores(ids, counts) for ids, counts in terms])
    for r, q in enumerate(part):
        # The answer is the document without the span: score what is left of it.
        lexical[r, q.doc] = bm25.score_matched(*terms[r], *rests[r])
    return lexical


def bm25_reciprocal_ranks(
    found: Sequence[PseudoQuery],
    terms: Sequence[tuple[np.ndarray, np.ndarray]],
    rests: Sequence[tuple[np.ndarray, float]],
    bm25: Bm25,
    grid: Sequence[tuple[float, float]] = BM25_GRID,
) -> dict[tuple[float, float], np.ndarray]:
    """Each pseudo-query's reciprocal rank of its answer by BM25 alone, at each (k1, b) of
    ``grid`` (``bm25`` gives the documents' counts; its own parameters need not be on it)."""
    out = {}
    answers = [q.doc for q in found]
    for k1, b in grid:
        tuned = bm25 if (k1, b) == (bm25.k1, bm25.b) else bm25.with_parameters(k1, b)
        ranks = []
        for i in range(0, len(found), CHUNK):  # (chunk, N) score matrices bound the memory
            chunk = slice(i, i + CHUNK)
            lexical = _lexical(found[chunk], terms[chunk], rests[chunk], tuned)
            ranks.append(reciprocal_ranks(lexical, answers[chunk]))
        out[(k1, b)] = np.concatenate(ranks)
    return out


def choose_bm25(reciprocal: dict[tuple[float, float], np.ndarray]) -> tuple[float, float]:
    """The (k1, b) whose pseudo-queries' mean reciprocal rank is best, if it beats bm25s'
    defaults (:data:`~docret.rank.lexical.BM25_K1`, :data:`~docret.rank.lexical.BM25_B`) by
    :data:`BM25_MARGIN` standard errors of the per-query differences; else the defaults."""
    default = (BM25_K1, BM25_B)
    if default not in reciprocal:
        return default
    best = max(reciprocal, key=lambda p: float(reciprocal[p].mean()))
    return best if _clearly_better(reciprocal[best], reciprocal[default], BM25_MARGIN) else default


def _label_sets(
    labels: Sequence[Sequence[str]] | None, docs: Sequence[int]
) -> list[frozenset[str]] | None:
    """Each text's labels as a set, or None where they cannot tell topics apart: fewer than
    two distinct labels among the ``docs`` (the pseudo-queries' documents), or fewer than
    :data:`MIN_PSEUDO_QUERIES` of those labelled."""
    if labels is None:
        return None
    sets = [frozenset(x) for x in labels]
    mine = [sets[i] for i in docs if sets[i]]
    if len(mine) < MIN_PSEUDO_QUERIES or len(frozenset().union(*mine)) < 2:
        return None
    return sets


def _cosines(part: Sequence[PseudoQuery], docs: np.ndarray, embedded: np.ndarray) -> np.ndarray:
    """(len(part), N) cosines of the pseudo-queries with the unit-length ``docs``, the
    answer's scored against the rest of its document; ``embedded`` holds the pseudo-queries'
    vectors, then those of the rests."""
    embedded = normalize_rows(embedded)
    queries, rests = embedded[: len(part)], embedded[len(part) :]
    scores = queries @ docs.T
    for r, q in enumerate(part):
        scores[r, q.doc] = queries[r] @ rests[r]
    return scores


def choose_for_index(
    texts: Sequence[str],
    encoder: Any,
    codes: np.ndarray,
    seed: int = 0,
    tfidf: Any = None,
    counts: TermCounts | None = None,
    labels: Sequence[Sequence[str]] | None = None,
) -> tuple[LexicalIndex, FusionChoice]:
    """The lexicon and BM25 (at the parameters chosen) of a new index and its fusion weights,
    from a fitted :class:`~docret.encoder.Encoder`, the documents' ``codes`` and (if the
    caller has them) their tf-idf matrix and their :class:`~docret.lexicon.TermCounts` over
    every term, and the documents' ``labels`` (any sequence: only the sampled ones are read).
    A binary index ranks by Hamming distance and is not fused: its weights stay 0, and only
    BM25's parameters (``--method bm25``) are chosen.

    Above :data:`CALIBRATION_DOCS` documents the weights are chosen on a seeded random sample
    of that many, their pseudo-queries searching that sample: the (chunk x N) score matrices
    and the pass over every text then stay the size of a 50,000-document corpus.
    """
    analyzer = encoder.analyzer_
    lexical = LexicalIndex.from_counts(
        counts if counts is not None else count_corpus(texts, analyzer)
    )
    sample = lexical
    if len(texts) > CALIBRATION_DOCS:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(len(texts), CALIBRATION_DOCS, replace=False))
        texts = [texts[i] for i in rows.tolist()]
        labels = None if labels is None else [labels[i] for i in rows.tolist()]
        codes = codes[rows]
        tfidf = None if tfidf is None else tfidf[rows]
        sample = LexicalIndex.from_counts(lexical.counts.take(rows))
    # Encoding pseudo-queries is no progress stage of its own: keep it off the "Encoding" bar.
    progress, encoder.progress = encoder.progress, None
    try:
        if not encoder.binary and tfidf is None:
            tfidf = encoder.tfidf(encoder.vectorize(texts))
        spaces = None
        if not encoder.binary:
            lsa = encoder.transform_lsa(texts, tfidf)
            spaces = Spaces(codes, encoder.transform_both, lsa)
        choice = calibrate(
            texts, analyzer, sample, spaces, Draw(seed), Topical(labels=labels, tfidf=tfidf)
        )
    finally:
        encoder.progress = progress
    return lexical.tuned(choice.k1, choice.b), choice

"""A query's way from its text to its hits: the query syntax read out of the text
(:mod:`docret.query_syntax`), the filters and excluded words turned into the rows it may rank
(:mod:`docret.facts`), the ranking among those rows (:func:`docret.rank.run`), then its phrases
checked on the stored text of its best candidates, more of them until ``k`` hold them.

A query with no syntax and no filter takes the path it always took: its scores are bitwise
those of :func:`docret.rank.run` alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from docret import rank
from docret.errors import FilterError, QueryError
from docret.filters import Filters, FilterSpec
from docret.hits import Ranking, ranking
from docret.query_syntax import ParsedQuery, parse
from docret.rank.base import Scored, top_k
from docret.suggest import did_you_mean

if TYPE_CHECKING:
    from docret.snapshot import Snapshot
    from docret.store import Store

# Phrases are checked on the best candidates first: this many times k, then four times as
# many each round until k hold them or none is left; once k are found, up to COUNTED_AT_MOST
# candidates left are checked too, so that ``matched`` is exact unless more remain.
FIRST_CHECKED = 4
COUNTED_AT_MOST = 1000


def search(
    store: Store,
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    *,
    method: str | None = None,
    hybrid: bool = False,
    filters: FilterSpec = None,
) -> list[Ranking]:
    """The rankings of ``texts`` (each read for query syntax) by ``method`` among the
    documents ``filters`` lets through (:class:`~docret.filters.Filters` or a mapping of its
    fields); each ranking's ``facets()`` counts its matched documents by type and folder.
    A query no document answers for want of known words raises :class:`QueryError` with the
    query its closest known words make (:mod:`docret.suggest`)."""
    given = Filters.of(filters)
    queries = [parse(t) for t in texts]
    options = {"method": method, "hybrid": hybrid}
    try:
        if not given and all(q.plain for q in queries):
            answers = rank.run(state, texts, k, rerank, **options)
        else:
            answers = [answer(store, state, q, given, k, rerank, **options) for q in queries]
    except FilterError:
        raise
    except QueryError as e:
        rank.checked(state, rerank, method, hybrid)  # its own error first: not the words'
        better = did_you_mean(state, texts[0]) if len(texts) == 1 else None
        if better is None:
            raise
        raise QueryError(f"{e}; did you mean: {better}?") from None
    # Each hit's passage answers the query's free words and phrases, not its syntax.
    return [
        with_facets(state, ranking(store, state, a, q.text), a.listed)
        for a, q in zip(answers, queries, strict=True)
    ]


def with_facets(state: Snapshot, found: Ranking, listed: np.ndarray | None) -> Ranking:
    """``found`` with the facets of the documents its ranking ``listed``, counted when asked."""
    return Ranking(found, found.matched, facets=lambda: state.facts.facets(listed))


def answer(
    store: Store,
    state: Snapshot,
    query: ParsedQuery,
    given: Filters,
    k: int,
    rerank: int | None = None,
    *,
    method: str | None = None,
    hybrid: bool = False,
) -> Scored:
    """One query's :class:`Scored`, among the rows its filters and excluded words allow;
    a query of syntax alone (``type:pdf``, ``-draft``) lists those rows in storage order."""
    allowed = allowed_rows(state, query, given)
    if not query.text.strip():
        rank.checked(state, rerank, method, hybrid)
        found = listing(len(state.ids), allowed, k)
    else:
        found = rank.run(
            state, [query.text], k, rerank, method=method, hybrid=hybrid, allowed=allowed
        )[0]
    if query.phrases or query.unwanted:
        found = with_phrases(store, state, found, query, k)
    return found


def allowed_rows(state: Snapshot, query: ParsedQuery, given: Filters) -> np.ndarray | None:
    """The rows a query may rank: those its filters (given, and typed in its text) let
    through, without its excluded words and, for a phrase, holding all of its words; None
    where nothing narrows."""
    masks = [state.facts.mask(f) for f in (given, query.filters) if f]
    analyzer = state.vectorizer.analyzer
    unwanted = [t for word in query.excluded for t in analyzer(word)]
    if unwanted:
        masks.append(~holding(state, unwanted, every=False))
    needed = [t for phrase in query.phrases for t in analyzer(phrase)]
    if needed:
        masks.append(holding(state, needed, every=True))
    if not masks:
        return None
    out = masks[0].copy()
    for m in masks[1:]:
        out &= m
    return out


def holding(state: Snapshot, terms: Sequence[str], every: bool) -> np.ndarray:
    """The documents that hold ``every`` one of ``terms`` (stems), or any of them."""
    lexical = state.lexical
    postings = lexical.bm25.postings
    out = np.full(len(state.ids), every, dtype=bool)
    for term in dict.fromkeys(terms):
        j = lexical.lexicon.get(term)
        has = np.zeros(len(state.ids), dtype=bool)
        if j is not None:
            has[postings.docs[postings.starts[j] : postings.starts[j + 1]]] = True
        out = out & has if every else out | has
    return out


def listing(n: int, allowed: np.ndarray | None, k: int) -> Scored:
    """The first ``k`` of the ``allowed`` rows (all where None) in storage order, each
    scored 0: what a query of filters alone returns."""
    rows = np.arange(n) if allowed is None else np.flatnonzero(allowed)
    listed = np.ones(n, dtype=bool) if allowed is None else allowed
    return Scored(rows[:k], np.zeros(n, dtype=np.float32), listed)


def phrase_regex(phrase: str) -> re.Pattern[str]:
    """A phrase as it must appear: case-folded, whitespace runs as one space, at word
    boundaries (``"rocket launch"`` is not found in "rocket launches")."""
    words = " ".join(phrase.casefold().split())
    return re.compile(r"(?<!\w)" + re.escape(words) + r"(?!\w)")


def with_phrases(
    store: Store, state: Snapshot, found: Scored, query: ParsedQuery, k: int
) -> Scored:
    """``found`` with its listed documents narrowed to those whose stored text holds every
    phrase of ``query`` and none of its unwanted ones: its candidates best first,
    :data:`FIRST_CHECKED` x ``k`` of them, then four times as many, until ``k`` pass."""
    wanted = [phrase_regex(p) for p in query.phrases]
    unwanted = [phrase_regex(p) for p in query.unwanted]
    listed = found.listed if found.listed is not None else np.ones(len(state.ids), dtype=bool)
    kept = listed.copy()  # the candidates not checked yet may hold the phrases too
    total = int(listed.sum())
    passed: list[int] = []
    done = 0
    size = max(FIRST_CHECKED * k, 16)
    while done < total and (len(passed) < k or total - done <= COUNTED_AT_MOST):
        size = min(total, size)
        batch = top_k(found.scores, size, allowed=listed)[done:]
        texts = store.texts([state.ids[i] for i in batch])
        for row in batch.tolist():
            text = " ".join(texts.get(state.ids[row], "").casefold().split())
            if all(p.search(text) for p in wanted) and not any(p.search(text) for p in unwanted):
                passed.append(row)
            else:
                kept[row] = False
        done = size
        size *= 4
    return Scored(np.array(passed[:k], dtype=np.int64), found.scores, kept)

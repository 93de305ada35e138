"""What a query returns: :class:`Hit`, :class:`Ranking` (hits and how many the method
lists), :class:`Comparison` (two rankings side by side), built from a ranker's
:class:`~docret.rank.base.Scored` and the stored documents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from docret import snippets
from docret.snippets import SNIPPET_CHARS, QueryTerms

if TYPE_CHECKING:
    from docret.rank.base import Scored
    from docret.snapshot import Snapshot
    from docret.store import Store, StoredDocument


@dataclass(frozen=True)
class Hit:
    """One ranked document. ``snippet`` is the passage of its text that best answers the
    query (:mod:`docret.snippets`), ``highlights`` the query's words in it (character offsets
    into ``snippet``) and ``snippet_start`` where it starts in the document's text."""

    id: str
    score: float
    title: str
    snippet: str
    labels: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)  # path, type, author, date, ...
    highlights: tuple[tuple[int, int], ...] = ()
    snippet_start: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.id,
            "score": round(float(self.score), 6),
            "title": self.title,
            "snippet": self.snippet,
            "labels": list(self.labels),
            "metadata": dict(self.metadata),
            "highlights": [[start, end] for start, end in self.highlights],
            "snippet_start": self.snippet_start,
        }


class Ranking(list):
    """A query's hits, best first (a list of :class:`Hit`), and ``matched``: how many
    documents the method lists for the query (:func:`~docret.rank.base.matching`), of which
    the hits are the first ``k``. Documents that do not match are never hits."""

    def __init__(
        self,
        hits: Sequence[Hit] = (),
        matched: int | None = None,
        facets: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(hits)
        self.matched = len(self) if matched is None else matched
        self._facets = facets

    def facets(self) -> dict[str, Any]:
        """How many of the matched documents are of each type and in each folder, the most
        frequent first (:meth:`docret.facts.Facts.facets`), counted when asked."""
        return self._facets() if self._facets is not None else {}


@dataclass
class Comparison:
    """Two rankings of the same query: ``method``'s (``hits``) beside ``baseline``'s."""

    method: str
    hits: list[Hit]
    baseline: str
    baseline_hits: list[Hit]

    @property
    def both(self) -> set[str]:
        """Ids that both rankings found."""
        return {h.id for h in self.hits} & {h.id for h in self.baseline_hits}

    def to_dict(self) -> dict[str, Any]:
        """``{"methods": [method, baseline], method: hits, baseline: hits, "both": ids}``, each
        hit with ``in_both``."""
        both = self.both
        return {
            "methods": [self.method, self.baseline],
            **{
                name: [h.to_dict() | {"in_both": h.id in both} for h in hits]
                for name, hits in ((self.method, self.hits), (self.baseline, self.baseline_hits))
            },
            "both": sorted(both),
        }


def ranking(store: Store, state: Snapshot, answer: Scored, query: str | None = None) -> Ranking:
    """The hits of ``answer``'s order that its ``listed`` marks (the documents the method
    lists, an upper set of its scores, so none is lost from the first ``k``), and their
    count; every hit of the order where it lists all (a nearest-neighbour search). Each hit
    shows the passage that best answers ``query``, or its first lines without one."""
    order = np.asarray(answer.order)
    terms = QueryTerms.of(state, query) if query else None
    if answer.listed is None:
        return Ranking(hits(store, state, order, answer.scores, terms))
    listed = answer.listed
    found = hits(store, state, order[listed[order]], answer.scores, terms)
    return Ranking(found, int(listed.sum()))


def hits(
    store: Store,
    state: Snapshot,
    order: np.ndarray,
    scores: np.ndarray,
    terms: QueryTerms | None = None,
) -> list[Hit]:
    """The stored documents at rows ``order`` of ``state``, with their ``scores`` and the
    passages that show the query's ``terms``."""
    ids = [state.ids[i] for i in order]
    docs = store.documents(ids)
    out = []
    for doc_id, i in zip(ids, order, strict=True):
        doc = docs[doc_id]
        shown = snippets.shown(doc.text, doc.title, terms)
        out.append(
            Hit(
                id=doc_id,
                score=float(scores[i]),
                title=doc.title,
                snippet=shown.text,
                labels=tuple(doc.labels),
                metadata=_metadata(doc),
                highlights=shown.highlights,
                snippet_start=shown.start,
            )
        )
    return out


def _metadata(doc: StoredDocument) -> dict[str, Any]:
    """A hit's metadata: the file it was read from, then what its format says."""
    return ({"path": doc.path} if doc.path else {}) | doc.metadata


def snippet(text: str, length: int = SNIPPET_CHARS, title: str | None = None) -> str:
    """The start of the text after its title, whitespace collapsed, cut at a word boundary
    (:func:`docret.snippets.first_lines`)."""
    return snippets.first_lines(text, title, length).text

"""What a query returns: :class:`Hit`, :class:`Ranking` (hits and how many the method
lists), :class:`Comparison` (two rankings side by side), built from a ranker's
:class:`~docret.rank.base.Scored` and the stored documents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from docret.corpus import body_of

if TYPE_CHECKING:
    from docret.rank.base import Scored
    from docret.snapshot import Snapshot
    from docret.store import Store, StoredDocument

SNIPPET_CHARS = 160


@dataclass(frozen=True)
class Hit:
    """One ranked document."""

    id: str
    score: float
    title: str
    snippet: str
    labels: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)  # path, type, author, date, ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.id,
            "score": round(float(self.score), 6),
            "title": self.title,
            "snippet": self.snippet,
            "labels": list(self.labels),
            "metadata": dict(self.metadata),
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


def ranking(store: Store, state: Snapshot, answer: Scored) -> Ranking:
    """The hits of ``answer``'s order that its ``listed`` marks (the documents the method
    lists, an upper set of its scores, so none is lost from the first ``k``), and their
    count; every hit of the order where it lists all (a nearest-neighbour search)."""
    order = np.asarray(answer.order)
    if answer.listed is None:
        return Ranking(hits(store, state, order, answer.scores))
    listed = answer.listed
    return Ranking(hits(store, state, order[listed[order]], answer.scores), int(listed.sum()))


def hits(store: Store, state: Snapshot, order: np.ndarray, scores: np.ndarray) -> list[Hit]:
    """The stored documents at rows ``order`` of ``state``, with their ``scores``."""
    ids = [state.ids[i] for i in order]
    docs = store.documents(ids)
    return [
        Hit(
            id=doc_id,
            score=float(scores[i]),
            title=docs[doc_id].title,
            snippet=snippet(docs[doc_id].text, title=docs[doc_id].title),
            labels=tuple(docs[doc_id].labels),
            metadata=_metadata(docs[doc_id]),
        )
        for doc_id, i in zip(ids, order, strict=True)
    ]


def _metadata(doc: StoredDocument) -> dict[str, Any]:
    """A hit's metadata: the file it was read from, then what its format says."""
    return ({"path": doc.path} if doc.path else {}) | doc.metadata


def snippet(text: str, length: int = SNIPPET_CHARS, title: str | None = None) -> str:
    """The start of the text after its title, whitespace collapsed, cut at a word boundary."""
    # Only the start is shown: collapsing whitespace in a whole long document would cost more
    # than the rest of a query.
    # str.split() folds whitespace runs as re.sub(r"\s+", " ") would, about 4x faster
    body = " ".join(body_of(text, title)[: length * 4].split())
    if len(body) <= length:
        return body
    cut = body.rfind(" ", 0, length)
    return body[: cut if cut > length // 2 else length] + "…"

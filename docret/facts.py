"""What filters and facets read of each document, held in memory with a snapshot: its path,
type, labels and date, one entry per row of the snapshot's codes.

Read from the store in one pass on the first filtered query (or facet) of a snapshot: 0.3 s
at 50,000 documents (bench/filters.py), after which a new label, type or date filter costs a
millisecond of numpy, a new glob 60 ms, and a filter asked for again is a cached mask. A
``where`` filter asks the store (90 ms at 50,000), since a document's other metadata fields
are not held here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

from docret.filters import Filters, path_matcher

# Days since 1970-01-01 of a document without a date (or one that is not a date): below every
# ``since``, and told apart from every ``until``.
NO_DATE = np.iinfo(np.int64).min
_DOCUMENT_DATE = re.compile(r"\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:$|[T\s])")
_EPOCH = date(1970, 1, 1).toordinal()
CACHED_MASKS = 64  # masks kept per snapshot: a page's filters, clicked on and off
FACETS_SHOWN = 10  # values of each facet shown, the most frequent first


def day_number(value: Any) -> int:
    """A document's date metadata (ISO 8601 as the readers store it, or a year or a month,
    taken as its first day) as days since 1970-01-01; :data:`NO_DATE` for anything else."""
    found = _DOCUMENT_DATE.match(value) if isinstance(value, str) else None
    if found is None:
        return NO_DATE
    try:
        day = date(int(found[1]), int(found[2] or 1), int(found[3] or 1))
    except ValueError:
        return NO_DATE
    return day.toordinal() - _EPOCH


class Facts:
    """The path, type, labels and date of every document of a snapshot (row-aligned with its
    ids), the masks of the filters asked for so far, and the facets of a set of rows."""

    def __init__(
        self,
        ids: Sequence[str],
        rows: Sequence[tuple[str, str | None, list[str], Any, Any]],
        ids_where: Callable[[str, str], list[str]],
        row_of: Mapping[str, int],
    ) -> None:
        """``rows``: the store's :meth:`~docret.store.Store.document_facts`; those of
        documents not in ``ids`` (written since the snapshot was read) are left out, and a
        document of ``ids`` removed meanwhile gets none. ``ids_where``: the store's query of
        the ids whose metadata field equals a value; ``row_of``: each id's row (the
        snapshot's)."""
        self.ids = ids
        by_id = {r[0]: r for r in rows}
        ordered = (
            rows
            if len(rows) == len(ids) and all(r[0] == i for r, i in zip(rows, ids, strict=True))
            else [by_id.get(i, (i, None, [], None, None)) for i in ids]
        )
        self.paths = [path or doc_id for doc_id, path, *_ in ordered]
        type_names: dict[str, int] = {}
        self.types = np.array(
            [
                type_names.setdefault(str(t or "unknown").lower(), len(type_names))
                for *_, t, _ in ordered
            ],
            dtype=np.int32,
        )
        self.type_names = list(type_names)
        labels: dict[str, list[int]] = {}
        for row, (_, _, found, _, _) in enumerate(ordered):
            for label in found:
                labels.setdefault(str(label).casefold(), []).append(row)
        self.labels = {label: np.array(rows, dtype=np.int64) for label, rows in labels.items()}
        self.days = np.array([day_number(d) for *_, d in ordered], dtype=np.int64)
        self._ids_where = ids_where
        self.row_of = row_of
        self._masks: dict[Filters, np.ndarray] = {}

    def mask(self, filters: Filters) -> np.ndarray:
        """The rows ``filters`` lets through, a boolean mask (cached: the last
        :data:`CACHED_MASKS` filters asked for)."""
        found = self._masks.pop(filters, None)
        if found is None:
            found = self._computed(filters)
            if len(self._masks) >= CACHED_MASKS:
                self._masks.pop(next(iter(self._masks)))
        self._masks[filters] = found  # the most recent last
        return found

    def _computed(self, filters: Filters) -> np.ndarray:
        n = len(self.ids)
        mask = np.ones(n, dtype=bool)
        for label in filters.labels:
            mask &= self.rows_mask(self.labels.get(label.casefold(), ()))
        if filters.types:
            wanted = [i for i, name in enumerate(self.type_names) if name in filters.types]
            mask &= np.isin(self.types, wanted)
        if filters.paths:
            matchers = [path_matcher(p) for p in filters.paths]
            mask &= np.fromiter((any(m(path) for m in matchers) for path in self.paths), bool, n)
        if filters.since is not None:
            mask &= self.days >= filters.since.toordinal() - _EPOCH
        if filters.until is not None:
            mask &= (self.days <= filters.until.toordinal() - _EPOCH) & (self.days != NO_DATE)
        for key, value in filters.where:
            row_of = self.row_of
            rows = [row_of[i] for i in self._ids_where(key, value) if i in row_of]
            mask &= self.rows_mask(rows)
        return mask

    def rows_mask(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """A boolean mask over the documents with ``rows`` set."""
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[np.asarray(rows, dtype=np.int64)] = True
        return mask

    @cached_property
    def _folders(self) -> tuple[np.ndarray, list[str]]:
        """Each document's folder (its path's, or its id's, up to the last ``/``; "" for
        none) as an index into the list of folders."""
        names: dict[str, int] = {}
        rows = [names.setdefault(p.rpartition("/")[0], len(names)) for p in self.paths]
        return np.array(rows, dtype=np.int32), list(names)

    def facets(self, listed: np.ndarray | None, most: int = FACETS_SHOWN) -> dict[str, Any]:
        """How many of the ``listed`` documents (a boolean mask; None: all) are of each type
        and in each folder: ``{"type": [(name, count), ...], "folder": [...]}``, the
        ``most`` frequent of each, more frequent first, then by name."""
        keep = slice(None) if listed is None else np.asarray(listed, dtype=bool)
        folders, folder_names = self._folders
        return {
            "type": _counted(self.types[keep], self.type_names, most),
            "folder": _counted(folders[keep], folder_names, most),
        }


def _counted(codes: np.ndarray, names: list[str], most: int) -> list[tuple[str, int]]:
    counts = np.bincount(codes, minlength=len(names))
    found = [(names[i], int(c)) for i, c in enumerate(counts) if c]
    return sorted(found, key=lambda item: (-item[1], item[0]))[:most]


def load_facts(store: Any, ids: Sequence[str], row_of: Mapping[str, int]) -> Facts:
    """The :class:`Facts` of the documents ``ids`` (a snapshot's, with its ``row_of``) as
    ``store`` holds them."""
    return Facts(ids, store.document_facts(), store.ids_where, row_of)

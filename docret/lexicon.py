"""The lexical side of an index: every stem of the corpus and each document's term counts.

The autoencoder sees a vocabulary of the most frequent stems; BM25 sees them all, since the
rare words a person types ("hypersonic", a product name) are the ones that pick out a document.
Term ids only grow: a word first seen in an added document gets the next id.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import Any

import numpy as np

from docret.rank.base import take_rows
from docret.rank.lexical import BM25_B, BM25_K1, Bm25

# Documents analysed at a time by :func:`count_corpus`: the Python lists of one chunk are all
# that is ever held, so counting a million documents needs only their numpy arrays.
COUNT_CHUNK = 5000


def count_terms(
    token_lists: Iterable[Sequence[str]], lexicon: dict[str, int], *, grow: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR parts (indptr, term ids, counts) of each token list's term counts over ``lexicon``.

    With ``grow``, unseen terms are added to ``lexicon`` (in place) with the next ids; without,
    they are left out (a query's words that no document has).
    """
    indptr, indices, counts = [0], [], []
    for tokens in token_lists:
        row: dict[int, int] = {}
        for t in tokens:
            j = lexicon.get(t)
            if j is None:
                if not grow:
                    continue
                j = lexicon[t] = len(lexicon)
            row[j] = row.get(j, 0) + 1
        ids = sorted(row)
        indices.extend(ids)
        counts.extend(row[j] for j in ids)
        indptr.append(len(indices))
    return (
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int32),
        np.asarray(counts, dtype=np.float32),
    )


@dataclass
class TermCounts:
    """Every document's term counts over a lexicon of every term (CSR parts, storage order)."""

    terms: list[str]  # term id -> term, in the order first seen
    indptr: np.ndarray  # int64, one more than there are documents
    indices: np.ndarray  # int32 term ids, sorted within each document
    counts: np.ndarray  # float32

    @property
    def n_documents(self) -> int:
        return len(self.indptr) - 1

    def lengths(self) -> np.ndarray:
        """Each document's number of terms (float64)."""
        sizes = np.diff(self.indptr)
        lengths = np.zeros(len(sizes))
        filled = sizes > 0  # reduceat's sum for an empty row would be the next row's first
        if filled.any():
            starts = self.indptr[:-1][filled]
            lengths[filled] = np.add.reduceat(self.counts, starts, dtype=np.float64)
        return lengths

    def take(self, rows: np.ndarray) -> TermCounts:
        """The term counts of the documents ``rows`` (same lexicon)."""
        return TermCounts(self.terms, *take_rows(self.indptr, rows, self.indices, self.counts))


def count_corpus(
    texts: Iterable[str],
    analyze: Callable[[str], list[str]],
    on_progress: Callable[[int], None] | None = None,
) -> TermCounts:
    """The term counts of every text over a new lexicon of all their terms, analysed
    :data:`COUNT_CHUNK` texts at a time (``on_progress(texts done)`` after each chunk).

    The result is the one :func:`count_terms` gives for all texts at once, without ever
    holding more than one chunk's counts as Python objects.
    """
    lexicon: dict[str, int] = {}
    indptr: list[np.ndarray] = [np.zeros(1, np.int64)]
    indices: list[np.ndarray] = [np.zeros(0, np.int32)]
    counts: list[np.ndarray] = [np.zeros(0, np.float32)]
    done = filled = 0
    texts = iter(texts)
    while chunk := list(islice(texts, COUNT_CHUNK)):
        starts, ids, n = count_terms(map(analyze, chunk), lexicon)
        indptr.append(starts[1:] + filled)
        indices.append(ids)
        counts.append(n)
        filled += len(ids)
        done += len(chunk)
        if on_progress is not None:
            on_progress(done)
    # One array joined at a time, its chunks let go at once: the peak is the counts plus one
    # array's copy, not twice the counts.
    return TermCounts(list(lexicon), _joined(indptr), _joined(indices), _joined(counts))


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The parts as one array; ``parts`` is emptied."""
    out = np.concatenate(parts)
    parts.clear()
    return out


def query_terms(
    analyze: Callable[[str], list[str]], text: str, lexicon: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A query's term ids in ``lexicon`` and how often each occurs (unknown terms dropped)."""
    _, ids, counts = count_terms([analyze(text)], lexicon, grow=False)
    return ids, counts


class LexicalIndex:
    """An index's lexicon and BM25 over its documents' term counts (storage order)."""

    def __init__(
        self,
        terms: Sequence[str],
        indptr: np.ndarray,
        indices: np.ndarray,
        counts: np.ndarray,
        k1: float = BM25_K1,
        b: float = BM25_B,
    ) -> None:
        self.terms = list(terms)
        self.lexicon = {t: j for j, t in enumerate(self.terms)}
        self.counts = TermCounts(self.terms, indptr, indices, counts)
        self.k1, self.b = k1, b  # BM25's parameters: the corpus' choice (docret.rank.calibrate)
        # a query this long is a document (ranking.query_weight)
        lengths = self.counts.lengths()
        self.median_length = float(np.median(lengths)) if len(lengths) else 0.0

    @cached_property
    def bm25(self) -> Bm25:
        """BM25 over the counts, built on first use: a build only stores the counts."""
        c = self.counts
        return Bm25(c.indptr, c.indices, c.counts, len(self.terms), self.k1, self.b)

    def tuned(self, k1: float, b: float) -> LexicalIndex:
        """A copy of this index with BM25's parameters ``k1`` and ``b``, sharing its counts
        (its BM25 is built on first use); this index itself if they are the same."""
        if (k1, b) == (self.k1, self.b):
            return self
        out = copy.copy(self)
        out.__dict__.pop("bm25", None)
        out.k1, out.b = k1, b
        return out

    @classmethod
    def from_counts(cls, counts: TermCounts) -> LexicalIndex:
        """The lexical index of :func:`count_corpus`'s result."""
        return cls(counts.terms, counts.indptr, counts.indices, counts.counts)

    @classmethod
    def from_texts(cls, texts: Iterable[str], analyze: Callable[[str], list[str]]) -> LexicalIndex:
        """A new lexicon of every term of ``texts``, with their counts."""
        return cls.from_counts(count_corpus(texts, analyze))

    def rows(self, ids: Sequence[str]) -> Iterable[tuple[str, np.ndarray, np.ndarray]]:
        """(id, term ids, counts) of each document, for the store."""
        c = self.counts
        for i, doc_id in enumerate(ids):
            a, b = c.indptr[i], c.indptr[i + 1]
            yield doc_id, c.indices[a:b], c.counts[a:b]

    @cached_property
    def document_frequency(self) -> np.ndarray:
        """How many documents hold each term. Term ids only grow, so a term whose documents
        were all removed stays in the lexicon with 0 here."""
        return np.bincount(self.counts.indices, minlength=len(self.terms))

    def has(self, term: str) -> bool:
        """Whether some document holds ``term`` (a stem), now."""
        j = self.lexicon.get(term)
        return j is not None and bool(self.document_frequency[j] > 0)

    def scores(
        self, analyze: Callable[[str], list[str]], text: str
    ) -> tuple[np.ndarray, float] | None:
        """BM25 of ``text`` against every document and its number of terms that some document
        holds; None if no document holds any word of it (terms of removed documents only are
        no better than words never seen)."""
        ids, counts = query_terms(analyze, text, self.lexicon)
        held = self.document_frequency[ids] > 0
        ids, counts = ids[held], counts[held]
        return (self.bm25.scores(ids, counts), float(counts.sum())) if len(ids) else None


def load_lexical(store: Any, ids: list[str]) -> LexicalIndex:
    """The stored lexicon and term counts of the documents ``ids`` (storage order). They are
    read on first use, so another process may have written since ``ids`` were read: rows are
    then matched by id, and a document removed meanwhile gets no terms, rather than rows being
    misaligned."""
    with store.snapshot():  # the terms and the counts of one committed state
        terms = store.load_lexicon()
        # checked: term ids within the lexicon (BM25 counts by term id), counts finite
        found, indptr, indices, counts = store.load_term_counts(len(terms))
    if found != ids:
        stored = {doc_id: i for i, doc_id in enumerate(found)}
        rows = np.array([stored.get(doc_id, -1) for doc_id in ids], dtype=np.int64)
        indptr, indices, counts = take_rows(indptr, rows, indices, counts)
    return LexicalIndex(terms, indptr, indices, counts)


def store_added(
    store: Any, terms: Sequence[str], documents: Sequence[Any], analyze: Callable[[str], list[str]]
) -> None:
    """Store the term counts of added ``documents``, growing the stored lexicon (``terms``, as
    :meth:`~docret.store.Store.load_lexicon` reads it: reading every document's counts would
    cost seconds and gigabytes of a million documents) by their new terms."""
    lexicon = {t: j for j, t in enumerate(terms)}
    first = len(lexicon)
    indptr, indices, counts = count_terms((analyze(d.text) for d in documents), lexicon)
    rows = (
        (d.id, indices[a:b], counts[a:b])
        for d, a, b in zip(documents, indptr[:-1], indptr[1:], strict=True)
    )
    store.write_term_counts(list(lexicon)[first:], first, rows)

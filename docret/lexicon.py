"""The lexical side of an index: every stem of the corpus and each document's term counts.

The autoencoder sees a vocabulary of the most frequent stems; BM25 sees them all, since the
rare words a person types ("hypersonic", a product name) are the ones that pick out a document.
Term ids only grow: a word first seen in an added document gets the next id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from docret.ranking import Bm25


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
    ) -> None:
        self.terms = list(terms)
        self.lexicon = {t: j for j, t in enumerate(self.terms)}
        self.bm25 = Bm25(indptr, indices, counts, len(self.terms))
        self.stored = True  # False: counted from the texts, not yet in the database
        # a query this long is a document (ranking.query_weight)
        self.median_length = float(np.median(self.bm25.lengths)) if len(indptr) > 1 else 0.0

    @classmethod
    def from_tokens(cls, token_lists: Iterable[Sequence[str]]) -> LexicalIndex:
        """A new lexicon of every term in ``token_lists``, with their counts."""
        lexicon: dict[str, int] = {}
        indptr, indices, counts = count_terms(token_lists, lexicon)
        return cls(list(lexicon), indptr, indices, counts)

    def rows(self, ids: Sequence[str]) -> Iterable[tuple[str, np.ndarray, np.ndarray]]:
        """(id, term ids, counts) of each document, for the store."""
        postings = self.bm25.counts_csr
        for i, doc_id in enumerate(ids):
            a, b = postings[0][i], postings[0][i + 1]
            yield doc_id, postings[1][a:b], postings[2][a:b]

    def scores(
        self, analyze: Callable[[str], list[str]], text: str
    ) -> tuple[np.ndarray, float] | None:
        """BM25 of ``text`` against every document and its number of terms in the lexicon;
        None if no word of it is in the lexicon."""
        ids, counts = query_terms(analyze, text, self.lexicon)
        return (self.bm25.scores(ids, counts), float(counts.sum())) if len(ids) else None


def load_lexical(store: Any, ids: list[str], analyze: Callable[[str], list[str]]) -> LexicalIndex:
    """The stored lexicon and term counts of the documents ``ids`` (storage order). An index
    written before docret stored them gets them counted from its stored texts, in memory only
    (:attr:`LexicalIndex.stored` is then False, and the next write stores them)."""
    terms = store.load_lexicon()
    found, indptr, indices, counts = store.load_term_counts()
    if found == ids:
        return LexicalIndex(terms, indptr, indices, counts)
    docs = store.documents(ids)
    lexical = LexicalIndex.from_tokens(analyze(docs[i].text) for i in ids)
    lexical.stored = False
    return lexical


def store_added(
    store: Any,
    lexical: LexicalIndex,
    ids: Sequence[str],
    documents: Sequence[Any],
    analyze: Callable[[str], list[str]],
) -> None:
    """Store the term counts of added ``documents``, growing the lexicon by their new terms;
    first, for an index from before they were stored, everything counted for ``ids``."""
    if not lexical.stored:
        store.write_term_counts(lexical.terms, 0, lexical.rows(ids), replace=True)
    lexicon = dict(lexical.lexicon)
    first = len(lexicon)
    indptr, indices, counts = count_terms((analyze(d.text) for d in documents), lexicon)
    rows = (
        (d.id, indices[a:b], counts[a:b])
        for d, a, b in zip(documents, indptr[:-1], indptr[1:], strict=True)
    )
    store.write_term_counts(list(lexicon)[first:], first, rows)

"""BM25's inputs: every stem of the corpus (the lexicon, whose term ids only grow) and each
document's term counts over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from docret.store.base import StoreBase
from docret.store.checked import terms_problem
from docret.store.rows import id_chunks, to_blob
from docret.store.vectors import sparse_rows


class LexiconStore(StoreBase):
    """The lexicon and the documents' term counts."""

    def write_term_counts(
        self,
        new_terms: Sequence[str],
        first_id: int,
        rows: Iterable[tuple[str, np.ndarray, np.ndarray]],
        *,
        replace: bool = False,
    ) -> None:
        """Store terms new to the lexicon (ids from ``first_id`` on) and the (id, term ids,
        counts) rows of documents, atomically; ``replace`` clears both tables first (a build)."""
        with self.transaction():
            if replace:
                self.db.execute("delete from lexicon")
                self.db.execute("delete from term_counts")
            self.db["lexicon"].insert_all(
                ({"term_id": first_id + i, "term": t} for i, t in enumerate(new_terms)),
                batch_size=5000,
            )
            self.db["term_counts"].upsert_all(
                (
                    {"id": doc_id, "indices": to_blob(idx, "<i4"), "counts": to_blob(cnt)}
                    for doc_id, idx, cnt in rows
                ),
                pk="id",
                batch_size=1000,
            )

    def delete_term_counts(self, ids: Sequence[str]) -> None:
        """Remove the term counts of documents (their lexicon terms stay)."""
        with self.transaction():
            for marks, chunk in id_chunks(ids):
                self.db.execute(f"delete from term_counts where id in ({marks})", chunk)

    def load_lexicon(self) -> list[str]:
        """Lexicon terms in id order."""
        with self._reading():
            terms = [t for (t,) in self.db.execute("select term from lexicon order by term_id")]
            problem = terms_problem(self.db, "lexicon", len(terms))
            if problem is not None:
                raise self.damaged(problem)
        if not set(map(type, terms)) <= {str}:
            raise self.damaged("terms of the lexicon are not text")
        return terms

    def load_term_counts(
        self, n_terms: int | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Term counts in storage order as CSR parts: ids, indptr, term ids, counts (a document
        without its counts, which ``check`` reports, is absent from ``ids``). Term ids must lie
        below ``n_terms`` (default: the lexicon's size), counts be finite and not negative."""
        if n_terms is None:
            (n_terms,) = self.db.execute("select count(*) from lexicon").fetchone()
        return sparse_rows(
            self,
            "select d.id, t.indices, t.counts from documents d join term_counts t on t.id = d.id "
            "order by d.rowid",
            n_terms,
            "term counts",
            nonnegative=True,
        )

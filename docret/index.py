"""The :class:`Index` facade: open an index, search it, build and update it.

Reading runs on numpy and sqlite-utils alone over one immutable
:class:`~docret.snapshot.Snapshot` of the index: a query asks the ranking registry
(:mod:`docret.rank`) for its method's ranker and turns the answer into hits
(:mod:`docret.hits`). Building and updating live in :mod:`docret.indexing`; the methods
here that write call it and then drop the snapshot, so the next read loads the new state whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from docret import explain, indexing, rank
from docret.corpus import ReadOptions, Skipped
from docret.errors import QueryError, UnknownDocumentError
from docret.hits import Comparison, Hit, Ranking, ranking, snippet
from docret.indexing import AddReport, BuildReport
from docret.inference import NumpyEncoder
from docret.progress import Progress
from docret.rank.base import vectorize
from docret.rank.choice import FusionChoice
from docret.rank.codes import similar
from docret.rank.lexical import unknown_words
from docret.snapshot import Decoded, Snapshot
from docret.store import Store, StoredDocument
from docret.text import QueryVectorizer, SparseVector

__all__ = ["AddReport", "BuildReport", "Comparison", "Hit", "Index", "Ranking", "snippet"]


class Index:
    """A docret index stored in one SQLite file."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._snapshot: Snapshot | None = None
        # What the next snapshot can take over from the one a write of this index replaced.
        self._replaced: Decoded | None = None
        self.last_build: BuildReport | None = None

    # -- opening, building, updating ---------------------------------------------------------
    @classmethod
    def open(cls, db: str | Path = "docret.db", *, readonly: bool = False) -> Index:
        """Open an index built earlier; raises :class:`~docret.errors.DatabaseError`.

        ``readonly``: for reading only; the file is left exactly as it was (see
        :meth:`Store.open`), and a write raises :class:`~docret.errors.DatabaseError`."""
        store = Store.open(db, readonly=readonly)
        try:
            store.current_model_id()  # fail early and clearly on a database with no index yet
        except BaseException:
            store.close()
            raise
        return cls(store)

    @classmethod
    def existing_for(cls, db: str | Path, path: str | Path) -> Index | None:
        """The index in ``db`` if it was built from ``path``, else None (nothing to update)."""
        if not Path(db).exists():
            return None
        store = Store.open(db)
        if store.meta().get("source") != str(Path(path).resolve()):
            store.close()
            return None
        return cls(store)

    @classmethod
    def build(
        cls,
        path: str | Path,
        db: str | Path = "docret.db",
        *,
        globs: Sequence[str] | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        progress: Progress | None = None,
        read_options: ReadOptions | None = None,
        **settings: Any,
    ) -> Index:
        """Read ``path``, learn vocabulary and autoencoder, and write everything to ``db``.

        ``settings`` are :class:`~docret.encoder.Encoder` arguments (``code_size``,
        ``hidden``, ``vocab_size``, ``epochs``, ``seed``, ...; defaults in
        :mod:`docret.defaults`). Nothing is written until training has finished, and then in
        one transaction, so a failure or an interrupt at any point leaves an existing index in
        ``db`` untouched (and a new ``db`` not created); a training that diverged raises
        :class:`~docret.errors.TrainingError`. What other processes commit from the moment
        reading starts is kept. When ``db`` already indexes ``path``, the stored documents
        added from other paths and those of files that could not be read again are kept.
        The report is :attr:`last_build`.
        """
        store, report = indexing.build(
            path,
            db,
            globs=globs,
            on_skip=on_skip,
            progress=progress,
            read_options=read_options,
            **settings,
        )
        index = cls(store)
        index.last_build = report
        return index

    def retrain(self, *, progress: Progress | None = None, **settings: Any) -> BuildReport:
        """Learn a new vocabulary and model from every stored document and re-encode them all.

        Starts from the settings the current model was made with and changes only those
        given (a binary index stays binary). Written in one transaction: until it commits,
        the old model and codes stay in place.
        """
        try:
            return indexing.retrain(self.store, progress=progress, **settings)
        finally:
            self._written()

    def settings(self) -> dict[str, Any]:
        """The :class:`~docret.encoder.Encoder` settings the current model was made with."""
        return indexing.stored_settings(self.store)

    def add(
        self,
        path: str | Path,
        *,
        globs: Sequence[str] | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        remove_missing: bool = False,
        replace: bool = False,
        progress: Progress | None = None,
        read_options: ReadOptions | None = None,
    ) -> AddReport:
        """Encode new or changed documents under ``path`` with the stored model; skip the rest.

        Vocabulary and model stay as they are, so a document gets exactly the code it would
        have had in the build. Changed documents (same id, other text) are replaced in place.
        A document whose id is stored from another path raises
        :class:`~docret.errors.DocretError` and nothing is written, unless ``replace``.
        Everything is written in one transaction. With ``remove_missing``, documents read from
        ``path`` before whose files are gone are removed (what re-running ``docret index`` on
        the same folder does): only those of files matching ``globs``, if given; documents of
        files that are still there but could not be read are kept (:attr:`AddReport.kept`),
        and removing every document of ``path`` raises :class:`~docret.errors.DocretError`.
        """
        try:
            return indexing.add(
                self.store,
                self.snapshot,
                path,
                globs=globs,
                on_skip=on_skip,
                remove_missing=remove_missing,
                replace=replace,
                progress=progress,
                read_options=read_options,
            )
        finally:
            self._written()

    def add_texts(
        self, documents: Sequence[Mapping[str, Any]], *, replace: bool = False
    ) -> AddReport:
        """Encode documents given as records (``id``, ``text``, optional ``title`` and
        ``labels``) with the stored model, as :meth:`add` does for a path.

        They are stored as coming from :data:`~docret.corpus.TEXTS_SOURCE`, so giving an id
        again updates that document (or leaves it unchanged). A record that cannot be stored
        as given (blank id or text, NUL in an id, an id given twice) raises
        :class:`~docret.errors.CorpusError` and nothing is written; an id stored from a path
        raises :class:`~docret.errors.DocretError` unless ``replace``.
        """
        try:
            return indexing.add_texts(self.store, self.snapshot, documents, replace=replace)
        finally:
            self._written()

    def remove(self, ids: Sequence[str]) -> int:
        """Remove documents by id; all or nothing: any unknown id raises and removes none."""
        try:
            return indexing.remove(self.store, ids)
        finally:
            self._written()

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the loaded state --------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """Model, vocabulary and codes in memory (read on first use, again after a write)."""
        if self._snapshot is None:
            self._snapshot = Snapshot.load(self.store)
            self._snapshot.carry_decoded(self._replaced)
            self._replaced = None
        return self._snapshot

    def reload(self) -> Snapshot:
        """Read the index again (after another process wrote it) and swap the snapshot."""
        self._written()
        return self.snapshot

    def _written(self) -> None:
        """The index was written: the next use reads a new snapshot, taking over what
        carries (:meth:`Snapshot.carry_decoded`)."""
        if self._snapshot is not None:
            self._replaced = self._snapshot.decoded_state()
        self._snapshot = None

    @property
    def ids(self) -> list[str]:
        """Document ids in storage order (the rows of the snapshot's codes)."""
        return self.snapshot.ids

    @property
    def bits(self) -> np.ndarray | None:
        """Packed binary codes (N, ceil(D / 64)) uint64 of a binary model, else None."""
        return self.snapshot.bits

    @property
    def vectorizer(self) -> QueryVectorizer:
        """Maps text onto the stored vocabulary."""
        return self.snapshot.vectorizer

    @property
    def encoder(self) -> NumpyEncoder:
        """The stored encoder, evaluated with numpy."""
        return self.snapshot.encoder

    @property
    def fusion(self) -> FusionChoice:
        """The default ranking's choice: the weights of the codes and LSA against BM25 and
        BM25's parameters, chosen at build time."""
        return self.snapshot.fusion

    # -- queries -----------------------------------------------------------------------------
    def vectorize(self, text: str) -> SparseVector:
        """The query's tf-idf vector; raises :class:`QueryError` if it has no known word."""
        return vectorize(self.snapshot, text)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Codes (N, D) of arbitrary texts, encoded like the documents."""
        return self.encoder.encode([self.vectorize(t) for t in texts])

    def query(
        self,
        text: str,
        k: int = 10,
        rerank: int | None = None,
        hybrid: bool = False,
        *,
        method: str | None = None,
    ) -> Ranking:
        """The ``k`` best documents for ``text`` by ``method`` (a name of
        :data:`docret.rank.METHODS`; None is "default") among those the method lists for it
        (:func:`~docret.rank.base.matching`: for BM25 and tf-idf, the documents with a query
        term); ``matched`` on the result counts them. ``rerank``: binary codes, re-rank that
        many by Hamming distance (:func:`~docret.rank.codes.nearest`); ``hybrid=True`` is
        ``method="hybrid"``. docs/ranking.md describes each method.
        """
        return self.query_many([text], k, rerank, hybrid, method=method)[0]

    def query_many(
        self,
        texts: Sequence[str],
        k: int = 10,
        rerank: int | None = None,
        hybrid: bool = False,
        *,
        method: str | None = None,
    ) -> list[Ranking]:
        """:meth:`query` for several texts, encoded and scored as one batch."""
        if isinstance(texts, str):
            raise TypeError("query_many expects a list of texts; use query for one")
        state = self.snapshot  # one snapshot for the whole batch, even if another is loaded
        if rerank and state.bits is None:
            raise QueryError(
                "Re-ranking (--rerank) applies to binary codes (an index built with --binary "
                "N); this index has float codes, ranked by cosine already"
            )
        try:
            name = rank.method_name(method, hybrid)
        except ValueError as e:
            raise QueryError(str(e)) from None
        answers = rank.ranker(name)(state, texts, k, rerank)
        return [ranking(self.store, state, a) for a in answers]

    def compare(
        self,
        text: str,
        k: int = 10,
        rerank: int | None = None,
        *,
        method: str | None = None,
        baseline: str | None = None,
    ) -> Comparison:
        """``method``'s ranking (the default unless told) beside ``baseline``'s (BM25, or
        tf-idf when the method is BM25)."""
        name = method or "default"
        other = baseline or ("tfidf" if name == "bm25" else "bm25")
        return Comparison(
            name,
            self.query(text, k, rerank, method=name),
            other,
            self.query(text, k, rerank, method=other),
        )

    def offered(self) -> list[str]:
        """The ranking methods this index offers, the default first."""
        state = self.snapshot
        return rank.offered(state.bits is not None, state.lsa is not None)

    def default_ranking(self) -> str:
        """The default ranking in words, as this index ranks: BM25 and the scores that weigh
        in it ("BM25 + LSA" where the pseudo-queries gave the codes no weight), or the binary
        codes' Hamming distance."""
        state = self.snapshot
        if state.bits is not None:
            return "Learned codes (Hamming)"
        lsa = state.fusion.lsa if state.lsa is not None else 0.0
        parts = [n for n, w in (("learned codes", state.fusion.codes), ("LSA", lsa)) if w > 0]
        return " + ".join(["BM25", *parts])

    def unknown_words(self, text: str) -> list[str]:
        """The query's words that no indexed document has (ignored by every ranking), in
        query order, each cut to its first 40 characters and ``…``
        (:func:`~docret.errors.clipped`), so that no caller echoes a word of any length."""
        return unknown_words(self.snapshot, text)

    def similar(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Documents whose codes are closest to the stored document ``doc_id`` (itself left out)."""
        state = self.snapshot
        return ranking(self.store, state, similar(state, self._row(state, doc_id), k))

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document by id."""
        doc = self.store.documents([doc_id]).get(doc_id)
        if doc is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return doc

    # -- what codes mean ---------------------------------------------------------------------
    def explain(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The words the query's code stands for, by weight (see :meth:`words`)."""
        return explain.query_words(self.snapshot, text, k)

    def words(self, doc_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The words a stored document's code stands for: the decoder turns the code back into
        a distribution over the vocabulary, shown without the corpus-wide word frequencies."""
        state = self.snapshot
        return explain.document_words(state, self._row(state, doc_id), k)

    def shared_words(self, text: str, doc_id: str, k: int = 5) -> list[tuple[str, float]]:
        """Words that both the query's code and the document's code stand for (the smaller of
        the two weights, so a word must matter to both): why the document matched, even when
        it lacks the query's own words."""
        state = self.snapshot
        return explain.shared_words(state, text, self._row(state, doc_id), k)

    @staticmethod
    def _row(state: Snapshot, doc_id: str) -> int:
        i = state.row_of.get(doc_id)
        if i is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return i

    def map(self, out: str | Path, compare_lsa: bool = False) -> np.ndarray:
        """Draw every document in 2-D, coloured by label, to the PNG ``out``
        (:func:`docret.mapping.draw_index`); returns the (N, 2) code-map coordinates."""
        from docret import mapping

        return mapping.draw_index(self.store, self.snapshot, out, compare_lsa)

    def info(self) -> dict[str, Any]:
        """What the index holds: counts, vocabulary, model and training summary."""
        from docret.report import describe

        return describe(self.store, self.snapshot)

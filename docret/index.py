"""The :class:`Index` facade: open an index and search it; build and update through it.

This is the read side: open, query, similar, compare, explain, words, info and map, on numpy
and sqlite-utils alone (queries are encoded by :class:`~docret.inference.NumpyEncoder`), over
one immutable :class:`~docret.snapshot.Snapshot` of the index. Building and updating live in
:mod:`docret.indexing`; the methods here that write call it and then drop the snapshot, so
the next read loads the new state whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from docret import indexing, update
from docret.corpus import ReadOptions, Skipped, body_of
from docret.errors import QueryError, UnknownDocumentError, clipped, listing
from docret.fusion import FusionChoice
from docret.indexing import RETRAIN_UNKNOWN_SHARE, AddReport, BuildReport
from docret.inference import NumpyEncoder
from docret.progress import Progress
from docret.ranking import (
    HYBRID_WEIGHT,
    SHORT_QUERY_TERMS,
    fuse_with_feedback,
    hamming_distances,
    likelihood_ranking,
    logits,
    matching,
    method_name,
    normalize_rows,
    pack_bits,
    query_likelihood,
    smallest_k,
    top_k,
)
from docret.snapshot import Decoded, Snapshot
from docret.store import Store, StoredDocument
from docret.text import QueryVectorizer, SparseVector
from docret.update import SyncPlan, SyncReport

__all__ = ["AddReport", "BuildReport", "Comparison", "Hit", "Index", "Ranking", "snippet"]

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
    documents the method lists for the query (:func:`~docret.ranking.matching`), of which
    the hits are the first ``k``. Documents that do not match are never hits."""

    def __init__(self, hits: Sequence[Hit] = (), matched: int | None = None) -> None:
        super().__init__(hits)
        self.matched = len(self) if matched is None else matched


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

    @classmethod
    def sync(
        cls,
        path: str | Path,
        db: str | Path = "docret.db",
        *,
        retrain: bool = False,
        globs: Sequence[str] | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        on_plan: Callable[[SyncPlan], None] | None = None,
        progress: Progress | None = None,
        read_options: ReadOptions | None = None,
        **settings: Any,
    ) -> SyncReport:
        """Bring the index in ``db`` in line with ``path``, as ``docret index PATH`` does.

        Where ``db`` already indexes ``path``, an update: new and changed documents are
        encoded with the stored model and those whose files are gone removed, and
        ``settings`` that differ from the stored ones are named in the report as ignored.
        With ``retrain``, a new model from what ``path`` holds now, from the stored settings
        changed by ``settings``, keeping documents added from other paths. Otherwise (no
        database, or one of another path) a build with ``settings``. ``on_plan`` receives
        the decision (:class:`~docret.update.SyncPlan`) before reading starts; see
        :func:`docret.update.sync`. The database is closed on return.
        """
        return update.sync(
            path,
            db,
            retrain=retrain,
            globs=globs,
            on_skip=on_skip,
            on_plan=on_plan,
            progress=progress,
            read_options=read_options,
            **settings,
        )

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

    # -- queries -----------------------------------------------------------------------------
    def vectorize(self, text: str) -> SparseVector:
        """The query's tf-idf vector; raises :class:`QueryError` if it has no known word."""
        if not text or not text.strip():
            raise QueryError("Query is empty")
        vec = self.vectorizer.transform_one(text)
        if len(vec.indices) == 0:
            if vec.unknown:
                raise QueryError(
                    "No word of the query is in the index vocabulary (unknown: "
                    f"{listing([clipped(w) for w in vec.unknown])})"
                )
            if vec.stop_words:
                raise QueryError(
                    "The query has only stop words, which are not indexed: "
                    + listing([clipped(w) for w in vec.stop_words])
                )
            raise QueryError("The query has no words (only numbers or punctuation)")
        return vec

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
        """The ``k`` best documents for ``text`` by ``method`` (:data:`~docret.ranking.METHODS`)
        among those the method lists for it (:func:`~docret.ranking.matching`: for BM25 and
        tf-idf, the documents with a query term); ``matched`` on the result counts them.

        ``None`` or "default": BM25 fused with the code cosine and the LSA cosine at the
        weights chosen when the index was built (:attr:`fusion`), then again with the query's
        code and LSA vector moved toward its first best documents
        (:func:`~docret.ranking.fuse_with_feedback`). "codes": float codes rank by
        cosine; binary codes (``docret index --binary``) by Hamming distance, or with
        ``rerank`` take that many by Hamming and order them by the cosine of the code layer's
        logits plus the tf-idf cosine (a binary index's default). "hybrid" (or
        ``hybrid=True``): code cosine plus :data:`~docret.ranking.HYBRID_WEIGHT` times the
        tf-idf cosine. "bm25", "tfidf": the lexical rankings alone. "lsa": the LSA cosine
        alone. "likelihood": the codes alone again, by the decoder's likelihood of the
        query's words given each document's code, with some of the code cosine.
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
        snap = self.snapshot  # one snapshot for the whole batch, even if another is loaded
        if rerank and snap.bits is None:
            raise QueryError(
                "Re-ranking (--rerank) applies to binary codes (an index built with --binary "
                "N); this index has float codes, ranked by cosine already"
            )
        # >>> rank
        try:
            name = method_name(method, hybrid)
        except ValueError as e:
            raise QueryError(str(e)) from None
        if name == "default" and snap.bits is None:
            return [self._rank_lexical(snap, t, k, snap.fusion) for t in texts]
        if name == "bm25":
            return [self._rank_lexical(snap, t, k, None) for t in texts]
        if name == "tfidf":
            return [self.tfidf_query(t, k) for t in texts]
        if name == "lsa":
            return [self.lsa_query(t, k) for t in texts]
        if name == "likelihood":
            return [self.likelihood_query(t, k) for t in texts]
        hybrid = name == "hybrid"
        # <<< rank
        vectors = [self.vectorize(t) for t in texts]
        if hybrid and snap.bits is not None:
            raise QueryError(
                "The hybrid ranking needs float codes; a binary index adds tf-idf cosine when "
                "it re-ranks (--rerank N)"
            )
        codes = snap.encoder.encode(vectors)  # (Q, D)
        return [
            self._rank(snap, code, k, rerank, vector=v, hybrid=hybrid)
            for code, v in zip(codes, vectors, strict=True)
        ]

    def _rank(
        self,
        snap: Snapshot,
        code: np.ndarray,
        k: int,
        rerank: int | None = None,
        exclude: int | None = None,
        vector: SparseVector | None = None,
        hybrid: bool = False,
    ) -> list[Hit]:
        """The ``k`` documents of ``snap`` closest to ``code`` (row ``exclude`` left out)."""
        if snap.bits is None:
            scores = snap.unit_codes @ normalize_rows(code[None])[0]
            lexical = None
            if hybrid and vector is not None:
                lexical = snap.tfidf_by_term.scores(vector.indices, vector.values)
                scores += HYBRID_WEIGHT * lexical
            order = top_k(scores, k, exclude)
            if vector is None:  # similar: the nearest codes, whatever their cosine
                return self._hits(snap, order, scores)
            return self._ranking(snap, order, scores, matching(scores, lexical))
        # Binary codes: Hamming distance; the score shown is the share of matching bits.
        distances = hamming_distances(snap.bits, pack_bits(code[None])[0])
        similarity = 1.0 - distances / snap.encoder.code_size
        if not rerank:
            order = smallest_k(distances, k, exclude)
            if vector is None:
                return self._hits(snap, order, similarity)
            return self._ranking(snap, order, similarity, matching(similarity))
        # Semantic hashing as a filter: the best `rerank` by Hamming distance, re-ordered by
        # the cosine of the code layer's logits (the activations themselves are mostly pinned
        # near 0 or 1, so they order candidates poorly) plus, for a text query, its tf-idf
        # cosine (bench/RESULTS.md has the measurements).
        candidates = smallest_k(distances, max(rerank, k), exclude)
        scores = snap.unit_logits[candidates] @ normalize_rows(logits(code[None]))[0]
        if vector is not None:
            scores = scores + snap.tfidf_by_term.scores(vector.indices, vector.values)[candidates]
        order = candidates[top_k(scores, k)]
        full = np.zeros(len(snap.ids), dtype=np.float32)
        full[candidates] = scores
        if vector is None:
            return self._hits(snap, order, full)
        listed = np.zeros(len(snap.ids), dtype=bool)
        listed[candidates] = matching(scores)  # the candidates are all a rerank ranks
        return self._ranking(snap, order, full, listed)

    def lsa_query(self, text: str, k: int = 10) -> list[Hit]:
        """Latent semantic analysis: cosine of LSA vectors (the model's directions)."""
        snap = self.snapshot
        if snap.lsa is None:
            raise QueryError(
                "This index has no LSA directions (a binary index, one built with --lsa-dims "
                "0, or one built before docret kept them: 'docret retrain' adds them)"
            )
        scores = snap.unit_lsa @ snap.lsa_of(self.vectorize(text))
        return self._ranking(snap, top_k(scores, k), scores, matching(scores))

    def likelihood_query(self, text: str, k: int = 10) -> list[Hit]:
        """The codes alone, by the decoder's likelihood of the query's words given each
        document's code (:func:`~docret.ranking.query_likelihood`) with some of the code
        cosine (:func:`~docret.ranking.likelihood_ranking`); scores lie in [0, 1]."""
        snap = self.snapshot
        vec = self.vectorize(text)
        hidden, log_norms = snap.decoded
        likelihood = query_likelihood(
            hidden, log_norms, snap.decoder.output, vec.indices, vec.values
        )
        cosine = snap.unit_codes @ normalize_rows(snap.encoder.encode([vec]))[0]
        scores = likelihood_ranking(likelihood, cosine)
        return self._ranking(snap, top_k(scores, k), scores, matching(scores))

    def tfidf_query(self, text: str, k: int = 10) -> list[Hit]:
        """Plain bag-of-words retrieval: tf-idf cosine over the stored vectors."""
        snap = self.snapshot
        vec = self.vectorize(text)
        scores = snap.tfidf_by_term.scores(vec.indices, vec.values)
        return self._ranking(snap, top_k(scores, k), scores, matching(scores))

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

    # >>> rank: BM25 and the default ranking
    @property
    def fusion(self) -> FusionChoice:
        """The default ranking's weights of the codes and LSA against BM25, chosen at build
        time; 0 (BM25 alone) for an index built before docret chose them."""
        return self.snapshot.fusion

    def default_ranking(self) -> str:
        """The default ranking in words, as this index ranks: BM25 and the scores that weigh
        in it ("BM25 + LSA" where the pseudo-queries gave the codes no weight), or the binary
        codes' Hamming distance."""
        snap = self.snapshot
        if snap.bits is not None:
            return "Learned codes (Hamming)"
        lsa = snap.fusion.lsa if snap.lsa is not None else 0.0
        parts = [name for name, w in (("learned codes", snap.fusion.weight), ("LSA", lsa)) if w > 0]
        return " + ".join(["BM25", *parts])

    def _rank_lexical(
        self, snap: Snapshot, text: str, k: int, fusion: FusionChoice | None
    ) -> list[Hit]:
        """BM25, fused with the code cosine and the LSA cosine at the weights ``fusion``
        gives this query's length (:meth:`~docret.fusion.FusionChoice.weights_for`; None:
        BM25 alone) when the query has a word
        the model knows (a query of only rarer words ranks by BM25 alone), the query's code
        and LSA vector then moved toward its first top documents
        (:func:`~docret.ranking.fuse_with_feedback`)."""
        if not text or not text.strip():
            raise QueryError("Query is empty")
        found = snap.lexical.scores(snap.vectorizer.analyzer, text)
        if found is None:
            self.vectorize(text)  # raises the precise error: unknown words, stop words, ...
            # the model knows a word, but no document holds it any more (all were removed)
            raise QueryError(
                "No indexed document holds a word of the query (unknown: "
                f"{listing(self.unknown_words(text))})"
            )
        scores, n_terms = found
        lexical = None  # BM25 alone: its scores are the words' own
        vector = snap.vectorizer.transform_one(text)
        weight, lsa = (0.0, 0.0) if fusion is None else fusion.weights_for(n_terms)
        if snap.lsa is None:
            lsa = 0.0
        if (weight > 0 or lsa > 0) and len(vector.indices):
            codes = (snap.unit_codes, snap.encoder.encode([vector])[0]) if weight > 0 else None
            lsa_space = (snap.unit_lsa, snap.lsa_of(vector)) if lsa > 0 else None
            lexical = scores
            scores = fuse_with_feedback(scores, codes, weight, lsa_space, lsa)
        return self._ranking(snap, top_k(scores, k), scores, matching(scores, lexical))

    def unknown_words(self, text: str) -> list[str]:
        """The query's words that no indexed document has (ignored by every ranking), in
        query order, each cut to its first 40 characters and ``…`` (:func:`~docret.errors.clipped`)
        so that the CLI and the web API never echo a word of any length whole."""
        snap = self.snapshot
        analyzer = snap.vectorizer.analyzer
        return [
            clipped(w)
            for w in dict.fromkeys(analyzer.tokens(text))
            if w not in analyzer.stop_words and not snap.lexical.has(analyzer.stem(w))
        ]

    # <<< rank

    def similar(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Documents whose codes are closest to the stored document ``doc_id`` (itself left out)."""
        snap = self.snapshot
        i = self._row(snap, doc_id)
        return self._rank(snap, snap.codes[i], k, exclude=i)

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document by id."""
        doc = self.store.documents([doc_id]).get(doc_id)
        if doc is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return doc

    # -- what codes mean ---------------------------------------------------------------------
    def explain(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The words the query's code stands for, by weight (see :meth:`words`)."""
        snap = self.snapshot
        code = snap.encoder.encode([self.vectorize(text)])[0]
        return self._top_words(snap, snap.decoder.word_weights(code)[0], k)

    def words(self, doc_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The words a stored document's code stands for: the decoder turns the code back into
        a distribution over the vocabulary, shown without the corpus-wide word frequencies."""
        snap = self.snapshot
        code = snap.codes[self._row(snap, doc_id)]
        return self._top_words(snap, snap.decoder.word_weights(code)[0], k)

    def shared_words(self, text: str, doc_id: str, k: int = 5) -> list[tuple[str, float]]:
        """Words that both the query's code and the document's code stand for (the smaller of
        the two weights, so a word must matter to both): why the document matched, even when
        it lacks the query's own words."""
        snap = self.snapshot
        code = snap.encoder.encode([self.vectorize(text)])[0]
        weights = snap.decoder.word_weights(np.stack([code, snap.codes[self._row(snap, doc_id)]]))
        return self._top_words(snap, weights.min(axis=0), k)

    @staticmethod
    def _row(snap: Snapshot, doc_id: str) -> int:
        i = snap.row_of.get(doc_id)
        if i is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return i

    @staticmethod
    def _top_words(snap: Snapshot, weights: np.ndarray, k: int) -> list[tuple[str, float]]:
        terms, shown = snap.vectorizer.terms, snap.shortest_word
        return [(shown.get(terms[j], terms[j]), float(weights[j])) for j in top_k(weights, k)]

    def map(self, out: str | Path, compare_lsa: bool = False) -> np.ndarray:
        """Draw every document in 2-D, coloured by label, to the PNG ``out``.

        Positions are the stored codes projected on their two principal components (see
        :mod:`docret.mapping`); with ``compare_lsa``, LSA's 2-D map is drawn beside them.
        Returns the (N, 2) code-map coordinates, in storage order.
        """
        from docret import mapping

        snap = self.snapshot
        xy = mapping.pca_2d(snap.codes)
        panels = [
            (f"docret codes (D={snap.encoder.code_size}), first two principal components", xy)
        ]
        if compare_lsa:
            _, indptr, indices, weights = self.store.load_vectors()
            lsa = mapping.lsa_2d(indptr, indices, weights, len(snap.vectorizer.terms))
            panels.append(("LSA, 2 dimensions", lsa))
        labels = self.store.first_labels()
        mapping.draw(panels, [labels.get(i) for i in snap.ids], out)
        return xy

    # -- reporting ---------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """What the index holds: counts, vocabulary, model and training summary."""
        snap = self.snapshot
        meta = self.store.meta()
        model = snap.model
        history = model["history"]
        held_out = [h for h in history if h.get("val_loss") is not None]
        best = min(held_out, key=lambda h: h["val_loss"], default=None)
        added = self.store.meta_int("added_tokens", meta=meta)
        unknown_share = (
            self.store.meta_int("added_unknown_tokens", meta=meta) / added if added else 0.0
        )
        return {
            "database": self.store.path,
            "source": meta.get("source"),
            "built": meta.get("built"),
            "updated": meta.get("updated"),
            "added_unknown_share": round(unknown_share, 4),
            "retrain_advised": unknown_share > RETRAIN_UNKNOWN_SHARE,
            "schema_version": self.store.meta_int("schema_version", meta=meta),
            "documents": len(snap.ids),
            "vocabulary": len(snap.vectorizer.idf),
            "labels": self.store.label_counts(),
            "types": self.store.type_counts(),
            "model": {
                "id": model["id"],
                "layers": snap.encoder.config.get("hidden"),
                "code_size": snap.encoder.code_size,
                **{k: v for k, v in model["config"].items() if k not in {"hidden"}},
                "epochs_trained": len(history),
                "first_loss": history[0].get("loss") if history else None,
                "final_loss": history[-1].get("loss") if history else None,
                "best_val_loss": None if best is None else best["val_loss"],
                "best_epoch": None if best is None else best["epoch"],
                "seed": model["train_config"].get("seed"),
                # None for indexes built before the flag was stored
                "pretrained": model["train_config"].get("pretrain"),
            },
            "ranking": {  # rank
                "default": "codes" if snap.bits is not None else "bm25+codes+lsa",
                **snap.fusion.to_dict(),
                # ranking.query_weights: the short pair up to short_terms terms, then moving
                # to the long pair (if chosen), reached at long_from_terms terms
                "short_terms": SHORT_QUERY_TERMS,
                "long_from_terms": max(2 * SHORT_QUERY_TERMS, snap.fusion.long_terms),
            },
            "size_bytes": self.store.size_bytes(),
        }

    # -- helpers -----------------------------------------------------------------------------
    def _ranking(
        self, snap: Snapshot, order: np.ndarray, scores: np.ndarray, listed: np.ndarray
    ) -> Ranking:
        """The hits of ``order`` that ``listed`` marks (the documents the method matches, an
        upper set of its scores, so none is lost from the first ``k``), and their count."""
        order = np.asarray(order)
        return Ranking(self._hits(snap, order[listed[order]], scores), int(listed.sum()))

    def _hits(self, snap: Snapshot, order: np.ndarray, scores: np.ndarray) -> list[Hit]:
        ids = [snap.ids[i] for i in order]
        docs = self.store.documents(ids)
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

"""The :class:`Index` facade: build from a path, open, query, compare, find similar documents.

Building needs torch and scikit-learn; everything else (open, query, similar, compare) runs on
numpy and sqlite-utils alone, encoding queries with :class:`~docret.inference.NumpyEncoder`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from docret.catchup import Baseline, baseline, catch_up
from docret.corpus import Document, ReadResult, Skipped, body_of, read_documents
from docret.errors import DocretError, QueryError, UnknownDocumentError
from docret.inference import NumpyDecoder, NumpyEncoder
from docret.ranking import (
    HYBRID_WEIGHT,
    InvertedIndex,
    hamming_distances,
    logits,
    normalize_rows,
    pack_bits,
    smallest_k,
    top_k,
)
from docret.store import IndexData, Store, StoredDocument
from docret.text import Analyzer, QueryVectorizer, SparseVector

SNIPPET_CHARS = 160
# Above this share of unknown words, the stored vocabulary no longer describes what is added.
RETRAIN_UNKNOWN_SHARE = 0.2


@dataclass(frozen=True)
class Hit:
    """One ranked document."""

    id: str
    score: float
    title: str
    snippet: str
    labels: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.id,
            "score": round(float(self.score), 6),
            "title": self.title,
            "snippet": self.snippet,
            "labels": list(self.labels),
        }


@dataclass
class Comparison:
    """Learned-code ranking and tf-idf ranking of the same query."""

    codes: list[Hit]
    tfidf: list[Hit]

    @property
    def both(self) -> set[str]:
        """Ids that both rankings found."""
        return {h.id for h in self.codes} & {h.id for h in self.tfidf}


@dataclass
class BuildReport:
    """What :meth:`Index.build` read, skipped and learned."""

    documents: int
    skipped: list[Skipped]
    vocabulary: int
    epochs: int
    final_loss: float | None
    final_val_loss: float | None
    seconds: float


@dataclass
class AddReport:
    """What :meth:`Index.add` did."""

    added: list[str]
    updated: list[str]
    unchanged: int
    skipped: list[Skipped]
    unknown_share: float  # share of the new words (tokens, stop words aside) not in the vocabulary
    removed: list[str] = field(default_factory=list)

    @property
    def retrain_advised(self) -> bool:
        """Whether so many words were unknown that a retrain would serve the new documents."""
        return self.unknown_share > RETRAIN_UNKNOWN_SHARE


class Index:
    """A docret index stored in one SQLite file."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._loaded = False
        self.last_build: BuildReport | None = None

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def open(cls, db: str | Path = "docret.db") -> Index:
        """Open an index built earlier; raises :class:`~docret.errors.DatabaseError`."""
        store = Store.open(db)
        store.current_model_id()  # fail early and clearly on a database with no index yet
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
        on_stage: Callable[[str], None] | None = None,
        on_progress: Callable[[str, int, int | None], None] | None = None,
        **encoder_options: Any,
    ) -> Index:
        """Read ``path``, learn vocabulary and autoencoder, and write everything to ``db``.

        ``encoder_options`` are :class:`~docret.encoder.Encoder` arguments (``code_size``,
        ``hidden``, ``vocab_size``, ``epochs``, ``seed``, ``callback``, ...). Nothing is
        written until training has finished, and then in one transaction, so a failure or an
        interrupt at any point leaves an existing index in ``db`` untouched.
        """
        start = time.perf_counter()
        Store.ensure_creatable(db)  # store: say so before reading if it cannot be written
        stage = on_stage or (lambda _msg: None)
        stage(f"Reading {path}")
        read = _read(path, globs, on_skip, on_progress)
        store = Store.create(db)  # refuses a foreign database before the slow part
        base = baseline(store)  # store: what others commit from here on is kept
        if on_progress is not None:
            encoder_options = {**encoder_options, "progress": on_progress}
        source = str(Path(path).resolve())
        index = cls(store)
        index.last_build = index._fit_and_write(
            read.documents, [source] * len(read.documents), source, stage, encoder_options, base
        )
        index.last_build.skipped = read.skipped
        index.last_build.seconds = time.perf_counter() - start
        return index

    def retrain(
        self,
        *,
        on_stage: Callable[[str], None] | None = None,
        on_progress: Callable[[str, int, int | None], None] | None = None,
        **encoder_options: Any,
    ) -> BuildReport:
        """Learn a new vocabulary and model from every stored document and re-encode them all.

        Written in one transaction: until it commits, the old model and codes stay in place.
        """
        start = time.perf_counter()
        self.store.ensure_writable()  # store: fail before training, not after
        with self.store.snapshot():  # store: documents and baseline of one committed state
            stored = self.store.all_documents()
            base = baseline(self.store)
        source = self.store.meta().get("source", "")
        if on_progress is not None:
            encoder_options = {**encoder_options, "progress": on_progress}
        report = self._fit_and_write(
            [d for _, d in stored],
            [s for s, _ in stored],
            source,
            on_stage or (lambda _msg: None),
            encoder_options,
            base,
        )
        report.seconds = time.perf_counter() - start
        self._loaded = False
        return report

    def _fit_and_write(
        self,
        documents: Sequence[Document],
        sources: Sequence[str],
        source: str,
        stage: Callable[[str], None],
        encoder_options: dict[str, Any],
        base: Baseline,
    ) -> BuildReport:
        """Learn vocabulary and model from ``documents`` and replace the index with them,
        keeping what other processes committed since ``base`` (see :mod:`docret.catchup`)."""
        from docret.encoder import Encoder

        texts = [d.text for d in documents]
        encoder = Encoder(**encoder_options)
        stage(f"Building the vocabulary of {len(texts):,} documents")
        counts = encoder.fit_vocabulary(texts)
        stage(f"Training the autoencoder on {len(texts):,} documents")
        encoder.fit_model(counts)
        stage("Encoding documents")
        codes = encoder.encode_counts(counts)
        tfidf = encoder.tfidf(counts)
        state = encoder.export()
        stage(f"Writing {self.store.path}")
        data = IndexData(
            documents=documents,
            vectors=[
                (tfidf.indices[a:b], tfidf.data[a:b])
                for a, b in zip(tfidf.indptr[:-1], tfidf.indptr[1:], strict=True)
            ],
            codes=codes,
            bits=pack_bits(codes) if encoder.binary else None,
            vocabulary=state["vocabulary"],
            surface_forms=state["surface_forms"],
            df=state["df"],
            idf=state["idf"],
            analyzer=state["analyzer"],
            config=state["config"],
            train_config=state["train_config"],
            history=state["history"],
            weights=state["weights"],
            source=source,
            document_sources=sources,
        )
        # store: one write transaction from the catch-up to the commit, so that nothing
        # another process commits meanwhile is undone
        with self.store.transaction():
            data, _ = catch_up(self.store, base, data, encoder)
            self.store.replace_index(data, on_progress=encoder_options.get("progress"))
        history = encoder.history_
        return BuildReport(
            documents=len(data.documents),
            skipped=[],
            vocabulary=len(state["vocabulary"]),
            epochs=len(history),
            final_loss=history[-1].loss if history else None,
            final_val_loss=history[-1].val_loss if history else None,
            seconds=0.0,
        )

    # -- keeping it current -----------------------------------------------------------------
    def add(
        self,
        path: str | Path,
        *,
        globs: Sequence[str] | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        remove_missing: bool = False,
        on_progress: Callable[[str, int, int | None], None] | None = None,
    ) -> AddReport:
        """Encode new or changed documents under ``path`` with the stored model; skip the rest.

        Vocabulary and model stay as they are, so a document gets exactly the code it would
        have had in the build. Changed documents (same id, other text) are replaced in place.
        Everything is written in one transaction. With ``remove_missing``, documents read from
        ``path`` before that are no longer there are removed (what re-running ``docret index``
        on the same folder does).
        """
        self.store.ensure_writable()  # store: before reading the corpus
        read = _read(path, globs, on_skip, on_progress)
        source = str(Path(path).resolve())
        # store: compare, encode and write inside one write transaction, so that what is
        # compared is what is overwritten, even if another docret committed (or retrained)
        # since this index was loaded
        with self.store.transaction():
            if self._loaded and self.model_info["id"] != self.store.current_model_id():
                self._loaded = False
            self.load()
            stored = self.store.document_hashes()
            gone = []
            if remove_missing:
                present = {d.id for d in read.documents}
                gone = [i for i in self.store.document_hashes(source) if i not in present]
            fresh = [d for d in read.documents if stored.get(d.id) != d.content_hash]
            vectors = [self.vectorizer.transform_one(d.text) for d in fresh]
            if fresh:
                codes = self.encoder.encode(vectors)
                bits = pack_bits(codes) if self.encoder.binary else None
                self.store.upsert_documents(
                    source,
                    fresh,
                    [(v.indices, v.values) for v in vectors],
                    codes,
                    bits,
                    unknown_tokens=sum(v.n_unknown for v in vectors),
                    known_tokens=sum(v.n_known for v in vectors),
                )
            if gone:
                self.store.delete_documents(gone)
        if fresh or gone:
            self._loaded = False  # reload codes on next use
        unknown = sum(v.n_unknown for v in vectors)
        total = unknown + sum(v.n_known for v in vectors)
        return AddReport(
            added=[d.id for d in fresh if d.id not in stored],
            updated=[d.id for d in fresh if d.id in stored],
            unchanged=len(read.documents) - len(fresh),
            skipped=read.skipped,
            unknown_share=unknown / total if total else 0.0,
            removed=gone,
        )

    def remove(self, ids: Sequence[str]) -> int:
        """Remove documents by id; all or nothing: any unknown id raises and removes none."""
        with self.store.transaction():  # store: checked and deleted in one write transaction
            stored = self.store.document_hashes()
            missing = [i for i in ids if i not in stored]
            if missing:
                raise UnknownDocumentError(
                    "No document with id " + ", ".join(repr(i) for i in missing) + " in the index"
                )
            unique = list(dict.fromkeys(ids))
            if len(stored) - len(unique) < 1:
                raise DocretError("Refusing to remove every document; build a new index instead")
            self.store.delete_documents(unique)
        self._loaded = False
        return len(unique)

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lazily loaded state -----------------------------------------------------------------
    def load(self) -> None:
        """Read model, vocabulary and codes into memory (done on first use; idempotent)."""
        if self._loaded:
            return
        info, weights = self.store.load_model()
        terms, idf = self.store.load_vocabulary()
        self.model_info = info
        known = self.store.load_surface_forms(terms)
        self._vectorizer = QueryVectorizer(Analyzer.from_dict(info["analyzer"], known), terms, idf)
        self._encoder = NumpyEncoder(info["config"], weights)
        self._ids, codes = self.store.load_codes()
        # Normalised once here, so ranking is one matrix-vector product.
        self._codes = normalize_rows(codes)
        self._raw_codes = codes
        self._bits = self.store.load_bits()
        self._rerank_codes: np.ndarray | None = None
        self.position = {doc_id: i for i, doc_id in enumerate(self._ids)}
        self._inverted: InvertedIndex | None = None
        self._decoder: NumpyDecoder | None = None
        self._display: dict[str, str] | None = None
        self._loaded = True

    @property
    def vectorizer(self) -> QueryVectorizer:
        """Maps text onto the stored vocabulary (loaded on first use)."""
        self.load()
        return self._vectorizer

    @property
    def encoder(self) -> NumpyEncoder:
        """The stored encoder, evaluated with numpy (loaded on first use)."""
        self.load()
        return self._encoder

    @property
    def ids(self) -> list[str]:
        """Document ids in storage order (the rows of :attr:`codes`)."""
        self.load()
        return self._ids

    @property
    def codes(self) -> np.ndarray:
        """L2-normalised codes of all documents, (N, D) float32."""
        self.load()
        return self._codes

    @property
    def raw_codes(self) -> np.ndarray:
        """Codes as the encoder gave them (not normalised), (N, D) float32."""
        self.load()
        return self._raw_codes

    @property
    def bits(self) -> np.ndarray | None:
        """Packed binary codes (N, ceil(D / 64)) uint64 of a binary model, else None."""
        self.load()
        return self._bits

    @property
    def rerank_codes(self) -> np.ndarray:
        """Binary indexes: L2-normalised logits of the stored code activations (built on first
        use), which ``rerank`` orders Hamming candidates by."""
        self.load()
        if self._rerank_codes is None:
            self._rerank_codes = normalize_rows(logits(self._raw_codes))
        return self._rerank_codes

    @property
    def inverted(self) -> InvertedIndex:
        """The stored tf-idf vectors by term (built on first use)."""
        self.load()
        if self._inverted is None:
            ids, indptr, indices, weights = self.store.load_vectors()
            assert ids == self.ids, "vectors and codes are stored in the same order"
            self._inverted = InvertedIndex(indptr, indices, weights, len(self.vectorizer.idf))
        return self._inverted

    # -- queries -----------------------------------------------------------------------------
    def vectorize(self, text: str) -> SparseVector:
        """The query's tf-idf vector; raises :class:`QueryError` if it has no known word."""
        self.load()
        if not text or not text.strip():
            raise QueryError("Query is empty")
        vec = self.vectorizer.transform_one(text)
        if len(vec.indices) == 0:
            if vec.unknown:
                raise QueryError(
                    "No word of the query is in the index vocabulary (unknown: "
                    + ", ".join(vec.unknown)
                    + ")"
                )
            if vec.stop_words:
                raise QueryError(
                    "The query has only stop words, which are not indexed: "
                    + ", ".join(vec.stop_words)
                )
            raise QueryError("The query has no words (only numbers or punctuation)")
        return vec

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Codes (N, D) of arbitrary texts, encoded like the documents."""
        return self.encoder.encode([self.vectorize(t) for t in texts])

    def query(
        self, text: str, k: int = 10, rerank: int | None = None, hybrid: bool = False
    ) -> list[Hit]:
        """The ``k`` documents whose codes are closest to the query's code.

        Float codes rank by cosine, or with ``hybrid`` by cosine plus
        :data:`~docret.ranking.HYBRID_WEIGHT` times the tf-idf cosine. Binary codes (``docret
        index --binary``) rank by Hamming distance, or with ``rerank`` take that many by
        Hamming and order them by the cosine of the code layer's logits plus the tf-idf cosine.
        """
        return self.query_many([text], k, rerank, hybrid)[0]

    def query_many(
        self, texts: Sequence[str], k: int = 10, rerank: int | None = None, hybrid: bool = False
    ) -> list[list[Hit]]:
        """:meth:`query` for several texts, encoded and scored as one batch."""
        if isinstance(texts, str):
            raise TypeError("query_many expects a list of texts; use query for one")
        vectors = [self.vectorize(t) for t in texts]  # loads the index on first use
        if hybrid and self.bits is not None:
            raise QueryError(
                "The hybrid ranking needs float codes; a binary index adds tf-idf cosine when "
                "it re-ranks (--rerank N)"
            )
        codes = self.encoder.encode(vectors)  # (Q, D)
        return [
            self._rank_code(code, k, rerank, vector=v, hybrid=hybrid)
            for code, v in zip(codes, vectors, strict=True)
        ]

    def _rank_code(
        self,
        code: np.ndarray,
        k: int,
        rerank: int | None = None,
        exclude: int | None = None,
        vector: SparseVector | None = None,
        hybrid: bool = False,
    ) -> list[Hit]:
        if self.bits is None:
            scores = self.codes @ normalize_rows(code[None])[0]
            if hybrid and vector is not None:
                scores += HYBRID_WEIGHT * self.inverted.scores(vector.indices, vector.values)
            return self._hits(top_k(scores, k, exclude), scores)
        # Binary codes: Hamming distance; the score shown is the share of matching bits.
        distances = hamming_distances(self.bits, pack_bits(code[None])[0])
        similarity = 1.0 - distances / self.encoder.code_size
        if not rerank:
            return self._hits(smallest_k(distances, k, exclude), similarity)
        # Semantic hashing as a filter: the best `rerank` by Hamming distance, re-ordered by
        # the cosine of the code layer's logits (the activations themselves are mostly pinned
        # near 0 or 1) plus, for a text query, its tf-idf cosine. On 20 Newsgroups that took
        # P@100 of the best 1,000 from 0.584 (activations) to 0.593 and 0.604 (bench/RESULTS.md).
        candidates = smallest_k(distances, max(rerank, k), exclude)
        scores = self.rerank_codes[candidates] @ normalize_rows(logits(code[None]))[0]
        if vector is not None:
            scores = scores + self.inverted.scores(vector.indices, vector.values)[candidates]
        order = candidates[top_k(scores, k)]
        full = np.zeros(len(self.ids), dtype=np.float32)
        full[candidates] = scores
        return self._hits(order, full)

    def tfidf_query(self, text: str, k: int = 10) -> list[Hit]:
        """Plain bag-of-words retrieval: tf-idf cosine over the stored vectors."""
        vec = self.vectorize(text)
        scores = self.inverted.scores(vec.indices, vec.values)
        return self._hits(top_k(scores, k), scores)

    def compare(self, text: str, k: int = 10, rerank: int | None = None) -> Comparison:
        """Learned-code and tf-idf rankings of the same query, side by side."""
        return Comparison(self.query(text, k, rerank), self.tfidf_query(text, k))

    def similar(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Documents whose codes are closest to the stored document ``doc_id`` (itself left out)."""
        i = self._position(doc_id)
        return self._rank_code(self.raw_codes[i], k, exclude=i)

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document by id."""
        doc = self.store.documents([doc_id]).get(doc_id)
        if doc is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return doc

    # -- what codes mean ---------------------------------------------------------------------
    def explain(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The words the query's code stands for, by weight (see :meth:`words`)."""
        code = self.encoder.encode([self.vectorize(text)])[0]
        return self._top_words(self.decoder.word_weights(code)[0], k)

    def words(self, doc_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The words a stored document's code stands for: the decoder turns the code back into
        a distribution over the vocabulary, shown without the corpus-wide word frequencies."""
        i = self._position(doc_id)
        return self._top_words(self.decoder.word_weights(self.raw_codes[i])[0], k)

    def shared_words(self, text: str, doc_id: str, k: int = 5) -> list[tuple[str, float]]:
        """Words that both the query's code and the document's code stand for (the smaller of
        the two weights, so a word must matter to both): why the document matched, even when
        it lacks the query's own words."""
        code = self.encoder.encode([self.vectorize(text)])[0]
        weights = self.decoder.word_weights(
            np.stack([code, self.raw_codes[self._position(doc_id)]])
        )
        return self._top_words(weights.min(axis=0), k)

    @property
    def decoder(self) -> NumpyDecoder:
        """The stored decoder (loaded on first use)."""
        self.load()
        if self._decoder is None:
            _, weights = self.store.load_model()
            self._decoder = NumpyDecoder(self.model_info["config"], weights)
        return self._decoder

    def _position(self, doc_id: str) -> int:
        self.load()
        i = self.position.get(doc_id)
        if i is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return i

    def _top_words(self, weights: np.ndarray, k: int) -> list[tuple[str, float]]:
        terms = self.vectorizer.terms
        if self._display is None:
            # Show each stem as the shortest word seen for it ("engin" -> "engine").
            shown: dict[str, str] = {}
            for word, stem in self.vectorizer.analyzer.stems_seen().items():
                if stem not in shown or len(word) < len(shown[stem]):
                    shown[stem] = word
            self._display = shown
        return [
            (self._display.get(terms[j], terms[j]), float(weights[j])) for j in top_k(weights, k)
        ]

    def map(self, out: str | Path, compare_lsa: bool = False) -> np.ndarray:
        """Draw every document in 2-D, coloured by label, to the PNG ``out``.

        Positions are the stored codes projected on their two principal components (see
        :mod:`docret.mapping`); with ``compare_lsa``, LSA's 2-D map is drawn beside them.
        Returns the (N, 2) code-map coordinates, in storage order.
        """
        from docret import mapping

        xy = mapping.pca_2d(self.raw_codes)
        panels = [
            (f"docret codes (D={self.encoder.code_size}), first two principal components", xy)
        ]
        if compare_lsa:
            _, indptr, indices, weights = self.store.load_vectors()
            lsa = mapping.lsa_2d(indptr, indices, weights, len(self.vectorizer.terms))
            panels.append(("LSA, 2 dimensions", lsa))
        labels = self.store.first_labels()
        mapping.draw(panels, [labels.get(i) for i in self.ids], out)
        return xy

    # -- reporting ---------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """What the index holds: counts, vocabulary, model and training summary."""
        self.load()
        meta = self.store.meta()
        history = self.model_info["history"]
        best = min((h["val_loss"] for h in history if h.get("val_loss") is not None), default=None)
        added = int(meta.get("added_tokens", 0))
        unknown_share = int(meta.get("added_unknown_tokens", 0)) / added if added else 0.0
        return {
            "database": self.store.path,
            "source": meta.get("source"),
            "built": meta.get("built"),
            "updated": meta.get("updated"),
            "added_unknown_share": round(unknown_share, 4),
            "retrain_advised": unknown_share > RETRAIN_UNKNOWN_SHARE,
            "schema_version": int(meta.get("schema_version", 0)),
            "documents": len(self.ids),
            "vocabulary": len(self.vectorizer.idf),
            "labels": self.store.label_counts(),
            "model": {
                "id": self.model_info["id"],
                "layers": self.encoder.config.get("hidden"),
                "code_size": self.encoder.code_size,
                **{k: v for k, v in self.model_info["config"].items() if k not in {"hidden"}},
                "epochs_trained": len(history),
                "first_loss": history[0]["loss"] if history else None,
                "final_loss": history[-1]["loss"] if history else None,
                "best_val_loss": best,
                "best_epoch": min(
                    (h for h in history if h.get("val_loss") is not None),
                    key=lambda h: h["val_loss"],
                    default={"epoch": None},
                )["epoch"],
                "seed": self.model_info["train_config"].get("seed"),
                # None for indexes built before the flag was stored
                "pretrained": self.model_info["train_config"].get("pretrain"),
            },
            "size_bytes": self.store.size_bytes(),
        }

    # -- helpers -----------------------------------------------------------------------------
    def _hits(self, order: np.ndarray, scores: np.ndarray) -> list[Hit]:
        ids = [self.ids[i] for i in order]
        docs = self.store.documents(ids)
        return [
            Hit(
                id=doc_id,
                score=float(scores[i]),
                title=docs[doc_id].title,
                snippet=snippet(docs[doc_id].text),
                labels=tuple(docs[doc_id].labels),
            )
            for doc_id, i in zip(ids, order, strict=True)
        ]


def _read(path, globs, on_skip, on_progress) -> ReadResult:
    """:func:`~docret.corpus.read_documents`, reporting its progress as the "Reading" stage."""
    return read_documents(
        path,
        globs,
        on_skip=on_skip,
        on_progress=(lambda done, total: on_progress("Reading", done, total))
        if on_progress
        else None,
    )


def snippet(text: str, length: int = SNIPPET_CHARS) -> str:
    """The start of the text after its title, whitespace collapsed, cut at a word boundary."""
    # Only the start is shown: collapsing whitespace in a whole long document would cost more
    # than the rest of a query.
    # str.split() folds whitespace runs as re.sub(r"\s+", " ") would, about 4x faster
    body = " ".join(body_of(text)[: length * 4].split())
    if len(body) <= length:
        return body
    cut = body.rfind(" ", 0, length)
    return body[: cut if cut > length // 2 else length] + "…"

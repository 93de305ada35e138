"""What a reader of an index holds in memory: one immutable :class:`Snapshot`.

Everything a query needs (ids, codes, packed bits, the vectorizer, the numpy encoder) is read
from the database at once into a snapshot. Nothing in it changes afterwards: when the index
is written, the reader drops the snapshot and loads a new one whole, so a server can swap it
atomically while queries run on the old one. Views derived from it (normalised codes, the
tf-idf vectors by term, the decoder) are computed on first use and kept with it; the decoded
documents may be taken over from the snapshot a write replaced (``carry_decoded``).
No torch, no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from docret.errors import UnknownDocumentError
from docret.facts import Facts, load_facts
from docret.inference import NumpyDecoder, NumpyEncoder
from docret.lexicon import LexicalIndex, load_lexical
from docret.lsa import project
from docret.rank.base import logits, normalize_rows, take_rows
from docret.rank.choice import FusionChoice
from docret.rank.lexical import InvertedIndex
from docret.store import Store, model_problems
from docret.text import Analyzer, QueryVectorizer, SparseVector


@dataclass(frozen=True)
class Decoded:
    """A snapshot's decoded documents (:attr:`Snapshot.decoded`) with what identifies them:
    the model (its id and creation time) and each document's row and code."""

    model: tuple[Any, Any]
    row_of: dict[str, int]
    codes: np.ndarray
    hidden: np.ndarray
    log_norms: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """The loaded state of an index at one moment; replaced as a whole, never changed."""

    model: dict[str, Any]  # id, created, config, train_config, analyzer, history
    ids: list[str]  # document ids in storage order: the rows of every matrix below
    codes: np.ndarray  # (N, D) float32, as the encoder gave them
    bits: np.ndarray | None  # (N, ceil(D / 64)) uint64 packed codes of a binary model
    vectorizer: QueryVectorizer
    encoder: NumpyEncoder
    weights: dict[str, np.ndarray] = field(repr=False)
    # Reads the stored tf-idf vectors (ids, indptr, indices, weights), on first use only.
    read_vectors: Callable[[], tuple] = field(repr=False, compare=False)
    # >>> rank: the default ranking's fusion weights, and BM25's inputs read on first use
    fusion: FusionChoice = field(default_factory=lambda: FusionChoice(0.0))
    read_lexical: Callable[[], LexicalIndex] | None = field(default=None, repr=False, compare=False)
    # <<< rank
    generation: int = 0  # store: the database's write count when this was read
    # What filters and facets read of each document, on first use only.
    read_facts: Callable[[dict[str, int]], Facts] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def load(cls, store: Store) -> Snapshot:
        """Read model, vocabulary and codes of the index in ``store``."""
        with store.snapshot():  # store: all of one committed state, whatever others write
            generation = store.generation()
            model, weights = store.load_model()
            terms, idf = store.load_vocabulary()
            problems = model_problems(model, weights, len(terms))
            if problems:  # checked before numpy indexes with any of it
                raise store.damaged(problems[0])
            known = store.load_surface_forms(terms)
            ids, codes, bits = store.load_codes(model["config"]["code_size"])
            ranking = store.load_ranking()
        try:
            fusion = FusionChoice.from_dict(ranking)  # rank
        except (AttributeError, KeyError, TypeError, ValueError):
            raise store.damaged(f"the model's ranking is unreadable: {ranking!r:.60}") from None
        analyzer = Analyzer.from_dict(model["analyzer"], known)
        n_terms = len(terms)
        return cls(
            model=model,
            ids=ids,
            codes=codes,
            bits=bits,
            vectorizer=QueryVectorizer(analyzer, terms, idf),
            encoder=NumpyEncoder(model["config"], weights),
            weights=weights,
            # term ids are checked against this snapshot's vocabulary before any use
            read_vectors=lambda: store.load_vectors(n_terms),
            fusion=fusion,  # rank
            read_lexical=lambda: load_lexical(store, ids),
            generation=generation,  # store
            read_facts=lambda row_of: load_facts(store, ids, row_of),
        )

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Each document id's row in :attr:`codes`."""
        return {doc_id: i for i, doc_id in enumerate(self.ids)}

    def row(self, doc_id: str) -> int:
        """The row of document ``doc_id``; raises :class:`UnknownDocumentError`."""
        i = self.row_of.get(doc_id)
        if i is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return i

    @cached_property
    def unit_codes(self) -> np.ndarray:
        """L2-normalised codes: ranking by cosine is one matrix-vector product."""
        return normalize_rows(self.codes)

    @cached_property
    def unit_logits(self) -> np.ndarray:
        """Binary models: L2-normalised logits of the stored code activations, which
        re-ranking orders Hamming candidates by."""
        return normalize_rows(logits(self.codes))

    def _vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored tf-idf vectors of this snapshot's documents as CSR parts (indptr,
        indices, weights), one row per :attr:`ids` entry.

        They are read on first use, so another process may have written since the snapshot
        was loaded (a server between two requests): rows are then matched by id, and a
        document removed meanwhile gets an empty vector, rather than rows being misaligned.
        """
        ids, indptr, indices, weights = self.read_vectors()
        if ids == self.ids:
            return indptr, indices, weights
        stored = {doc_id: i for i, doc_id in enumerate(ids)}
        rows = np.array([stored.get(doc_id, -1) for doc_id in self.ids], dtype=np.int64)
        return take_rows(indptr, rows, indices, weights)

    @cached_property
    def tfidf_by_term(self) -> InvertedIndex:
        """The stored tf-idf vectors, inverted by term (for tf-idf cosine of a query)."""
        return InvertedIndex(*self._vectors(), len(self.vectorizer.idf))

    @cached_property
    def lsa(self) -> np.ndarray | None:
        """The model's LSA directions (k, V), or None for an index built without them."""
        directions = self.weights.get("lsa")
        return directions if directions is not None and len(directions) else None

    @cached_property
    def unit_lsa(self) -> np.ndarray:
        """The documents' unit-length LSA vectors (N, k): their stored tf-idf vectors
        projected on :attr:`lsa`, computed on first use (documents added since the build
        included)."""
        assert self.lsa is not None, "an index with LSA directions"
        from scipy.sparse import csr_matrix  # first use only: the query path starts faster

        indptr, indices, weights = self._vectors()
        tfidf = csr_matrix((weights, indices, indptr), shape=(len(self.ids), self.lsa.shape[1]))
        return project(tfidf, self.lsa)

    def lsa_of(self, vector: SparseVector) -> np.ndarray:
        """A query's unit-length LSA vector (k,), from its tf-idf vector."""
        assert self.lsa is not None, "an index with LSA directions"
        return project(vector.values[None, :], self.lsa[:, vector.indices])[0]

    @cached_property
    def lexical(self) -> LexicalIndex:
        """BM25 over every stem of the documents, at the parameters chosen with the fusion
        weights (rank)."""
        assert self.read_lexical is not None, "a snapshot loaded from a store"
        return self.read_lexical().tuned(self.fusion.k1, self.fusion.b)

    @cached_property
    def decoder(self) -> NumpyDecoder:
        """The decoder half of the model (codes back to word weights)."""
        return NumpyDecoder(self.model["config"], self.weights)

    @cached_property
    def decoded(self) -> tuple[np.ndarray, np.ndarray]:
        """The documents' codes run through the decoder up to its output layer: its input
        (N, H) and each row's log normaliser over the vocabulary (N,), for
        :func:`~docret.rank.likelihood.query_likelihood`. Computed on first use: N x H x V
        multiply-adds (0.8 s at 11,426 documents, over two minutes at a million), and N x H
        floats kept; or taken over from the snapshot before a write (:meth:`carry_decoded`)."""
        return self.decoder.likelihood_parts(self.codes)

    def decoded_state(self) -> Decoded | None:
        """What a later snapshot of this index can take :attr:`decoded` over from
        (:meth:`carry_decoded`), or None if it was never computed. Only what identifies the
        model, the ids, the codes and the decoded arrays: not the rest of the snapshot."""
        if "decoded" not in self.__dict__:
            return None
        return Decoded(self._model_key(), self.row_of, self.codes, *self.decoded)

    def _model_key(self) -> tuple[Any, Any]:
        # A rebuilt file may number its model 1 again: the creation time tells them apart.
        return (self.model.get("id"), self.model.get("created"))

    def carry_decoded(self, previous: Decoded | None) -> None:
        """Take :attr:`decoded` over from the snapshot this one replaces (its
        :meth:`decoded_state`) if the model is the same: rows of documents whose code is
        unchanged are copied and only new or changed codes are decoded. After an ``add`` to a
        large index, the next likelihood query then costs what the new documents cost, not a
        decoding of every code again."""
        if previous is None or previous.model != self._model_key():
            return
        rows = np.array([previous.row_of.get(i, -1) for i in self.ids], dtype=np.int64)
        same = rows >= 0
        same[same] = (previous.codes[rows[same]] == self.codes[same]).all(axis=1)
        hidden = np.empty((len(self.ids), previous.hidden.shape[1]), dtype=np.float32)
        log_norms = np.empty(len(self.ids), dtype=np.float32)
        hidden[same], log_norms[same] = previous.hidden[rows[same]], previous.log_norms[rows[same]]
        if not same.all():
            hidden[~same], log_norms[~same] = self.decoder.likelihood_parts(self.codes[~same])
        self.__dict__["decoded"] = (hidden, log_norms)  # as cached_property would keep it

    @cached_property
    def facts(self) -> Facts:
        """Each document's path, type, labels and date, which filters and facets read
        (:mod:`docret.facts`), read on first use."""
        assert self.read_facts is not None, "a snapshot loaded from a store"
        return self.read_facts(self.row_of)

    @cached_property
    def shortest_word(self) -> dict[str, str]:
        """Each stem shown as the shortest word seen for it ("engin" -> "engine")."""
        shown: dict[str, str] = {}
        for word, stem in self.vectorizer.analyzer.stems_seen().items():
            if stem not in shown or len(word) < len(shown[stem]):
                shown[stem] = word
        return shown

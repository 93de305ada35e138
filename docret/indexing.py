"""The write side of an index: build, add, remove, retrain, and what each reports.

Training needs torch and scikit-learn, imported only when a model is fitted. Every write is
one transaction: a failure or an interrupt leaves the database as it was. The read side
(:class:`~docret.index.Index`) calls these and then loads a fresh snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docret.catchup import Baseline, baseline, catch_up
from docret.corpus import Document, ReadOptions, ReadResult, Skipped, read_documents
from docret.defaults import DEFAULTS
from docret.errors import DocretError, UnknownDocumentError, listing
from docret.fusion import choose_for_index
from docret.lexicon import lexicon_for_adding, store_added
from docret.progress import SILENT, Progress
from docret.ranking import pack_bits
from docret.snapshot import Snapshot
from docret.spool import SpooledDocuments, close_spool, labels_of, texts_of
from docret.store import CsrRows, IndexData, Store

# Above this share of unknown words, the stored vocabulary no longer describes what is added.
RETRAIN_UNKNOWN_SHARE = 0.2


@dataclass
class BuildReport:
    """What a build or a retrain read, skipped and learned."""

    documents: int
    skipped: list[Skipped]
    vocabulary: int
    epochs: int
    final_loss: float | None
    final_val_loss: float | None
    seconds: float


@dataclass
class AddReport:
    """What :func:`add` did."""

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

    def to_dict(self) -> dict[str, Any]:
        """What ``docret add --json`` prints (and the web API's add answers)."""
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "unknown_share": round(self.unknown_share, 4),
            "retrain_advised": self.retrain_advised,
        }


def build(
    path: str | Path,
    db: str | Path,
    *,
    globs: Sequence[str] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    progress: Progress | None = None,
    read_options: ReadOptions | None = None,
    **settings: Any,
) -> tuple[Store, BuildReport]:
    """Read ``path``, learn vocabulary and model with ``settings``, and replace the index in
    ``db`` with them; return the open store and the report.

    The database is only created once ``path`` has been read, so a path that cannot be read
    leaves no file behind; a foreign database is refused before training.
    """
    start = time.perf_counter()
    Store.ensure_creatable(db)  # store: say so before reading if it cannot be written
    progress = progress or SILENT
    progress.stage(f"Reading {path}")
    read = _read(path, globs, on_skip, progress, read_options, db)
    store = Store.create(db)
    source = str(Path(path).resolve())
    try:
        base = baseline(store)  # store: what others commit from here on is kept
        report = _fit_and_write(
            store,
            read.documents,
            [source] * len(read.documents),
            source,
            progress,
            settings,
            base,
        )
    except BaseException:
        store.close()
        raise
    finally:
        close_spool(read.documents)  # the temporary file of a large corpus, if any
    report.skipped = read.skipped
    report.seconds = time.perf_counter() - start
    return store, report


def retrain(store: Store, *, progress: Progress | None = None, **settings: Any) -> BuildReport:
    """Learn a new vocabulary and model from every stored document and re-encode them all.

    Starts from the settings the current model was made with (:func:`stored_settings`) and
    changes only those given in ``settings``: a binary index stays binary.
    """
    start = time.perf_counter()
    store.ensure_writable()  # store: fail before training, not after
    with store.snapshot():  # store: documents and baseline of one committed state
        documents, sources = SpooledDocuments(directory=_folder_of(store.path)), []
        names: dict[str, str] = {}  # one string per source, not one per document
        for source, document in store.iter_documents():
            documents.append(document)
            sources.append(names.setdefault(source, source))
        base = baseline(store)
    try:
        report = _fit_and_write(
            store,
            documents,
            sources,
            store.meta().get("source", ""),
            progress or SILENT,
            {**stored_settings(store), **settings},
            base,
        )
    finally:
        documents.close()
    report.seconds = time.perf_counter() - start
    return report


def stored_settings(store: Store) -> dict[str, Any]:
    """The :class:`~docret.encoder.Encoder` settings of the index's current model.

    Indexes written before the settings were stored get them back from the model's own
    config, training config and analyzer, and the defaults for the rest (vocabulary size and
    document-frequency bounds).
    """
    model, _ = store.load_model()
    recorded = {
        **model["config"],
        **model["train_config"],
        "stemmer": model["analyzer"].get("stemmer", DEFAULTS.stemmer),
        "vocab_size": DEFAULTS.vocab_size,  # the config holds the size reached, not the cap
    }
    recorded.update(store.load_settings())
    settings = {k: v for k, v in recorded.items() if k in DEFAULTS.as_dict()}
    settings["hidden"] = tuple(settings.get("hidden", DEFAULTS.hidden))
    return {**DEFAULTS.as_dict(), **settings}


def _fit_and_write(
    store: Store,
    documents: Sequence[Document],
    sources: Sequence[str],
    source: str,
    progress: Progress,
    settings: dict[str, Any],
    base: Baseline,
) -> BuildReport:
    """Learn vocabulary and model from ``documents`` and replace the index with them,
    keeping what other processes committed since ``base`` (see :mod:`docret.catchup`)."""
    from docret.encoder import Encoder

    texts = texts_of(documents)  # a lazy view when the documents were spooled to disk
    encoder = Encoder(**settings, progress=progress)
    progress.stage(f"Building the vocabulary of {len(texts):,} documents")
    # One pass of analysis counts every term: the model's vocabulary is chosen from these
    # counts, and BM25 ranks by all of them.
    terms = encoder.count_terms(texts)
    counts = encoder.fit_vocabulary(terms)
    progress.stage(f"Training the autoencoder on {len(texts):,} documents")
    encoder.fit_model(counts)
    progress.stage("Encoding documents")
    tfidf = encoder.tfidf(counts)
    del counts  # the tf-idf matrix is all that is needed from here on
    codes = encoder.encode_tfidf(tfidf)
    state = encoder.export()
    # >>> rank: BM25's lexicon and the default ranking's fusion weights, chosen from the
    # corpus' pseudo-queries (docret.fusion: known items, then topics by labels or neighbours),
    # commit together with the index.
    progress.stage("Choosing the default ranking")
    labels = labels_of(documents)
    lexical, choice = choose_for_index(
        texts, encoder, codes, encoder.seed, tfidf, terms, labels=labels
    )
    progress.stage(f"Writing {store.path}")
    with store.transaction():
        data = IndexData(
            documents=documents,
            vectors=CsrRows(tfidf),
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
            settings=state["settings"],
        )
        # >>> store: documents committed by others since ``base``, encoded with the new model
        merged, arrived = catch_up(store, base, data, encoder)
        kept: set[str] | None = None
        if merged is not data:  # others added or removed documents meanwhile
            kept = {d.id for d in merged.documents[: len(merged.documents) - len(arrived)]}
        data = merged
        # <<< store
        model_id = store.replace_index(data, progress=progress)
        rows = lexical.rows([d.id for d in documents])
        if kept is not None:
            rows = (r for r in rows if r[0] in kept)
        store.write_term_counts(lexical.terms, 0, rows, replace=True)
        if arrived and kept is not None:  # store: their term counts too
            lexical.stored = True
            store_added(store, lexical, sorted(kept), arrived, encoder.analyzer_)
        store.set_ranking(model_id, choice.to_dict())
    # <<< rank
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


def add(
    store: Store,
    snapshot: Snapshot,
    path: str | Path,
    *,
    globs: Sequence[str] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    remove_missing: bool = False,
    replace: bool = False,
    progress: Progress | None = None,
    read_options: ReadOptions | None = None,
) -> AddReport:
    """Encode new or changed documents under ``path`` with the model of ``snapshot``.

    See :meth:`docret.index.Index.add`.
    """
    store.ensure_writable()  # store: before reading the corpus
    read = _read(path, globs, on_skip, progress or SILENT, read_options, store.path)
    source = str(Path(path).resolve())
    n_read = len(read.documents)
    try:
        # store: compare, encode and write inside one write transaction, with what is stored now:
        # another docret may have committed since ``snapshot`` was read (even a new model)
        with store.transaction():
            if snapshot.generation != store.generation():
                snapshot = Snapshot.load(store)
            if not replace:
                _refuse_other_sources(store, read.documents, source)
            stored = store.document_hashes()
            gone = []
            if remove_missing:
                present = {d.id for d in read.documents}
                gone = [i for i in store.document_hashes(source) if i not in present]
            fresh = [d for d in read.documents if stored.get(d.id) != d.content_hash]
            vectors = [snapshot.vectorizer.transform_one(d.text) for d in fresh]
            unknown = sum(v.n_unknown for v in vectors)
            known = sum(v.n_known for v in vectors)
            if fresh:
                codes = snapshot.encoder.encode(vectors)
                store.upsert_documents(
                    source,
                    fresh,
                    [(v.indices, v.values) for v in vectors],
                    codes,
                    pack_bits(codes) if snapshot.encoder.binary else None,
                    unknown_tokens=unknown,
                    known_tokens=known,
                )
                analyze = snapshot.vectorizer.analyzer
                lexical = lexicon_for_adding(store, lambda: snapshot.lexical)  # rank
                store_added(store, lexical, snapshot.ids, fresh, analyze)  # rank
            if gone:
                store.delete_documents(gone)
                store.delete_term_counts(gone)  # rank
    finally:
        close_spool(read.documents)  # the temporary file of a large folder, if any
    return AddReport(
        added=[d.id for d in fresh if d.id not in stored],
        updated=[d.id for d in fresh if d.id in stored],
        unchanged=n_read - len(fresh),
        skipped=read.skipped,
        unknown_share=unknown / (unknown + known) if unknown + known else 0.0,
        removed=gone,
    )


def _refuse_other_sources(store: Store, documents: Sequence[Document], source: str) -> None:
    """Raise if a document's id is already stored from another path: an id names one
    document, and replacing it with an unrelated one must be asked for (``replace``)."""
    stored = store.document_sources([d.id for d in documents])
    clashes = [(i, src) for i, src in stored.items() if src is not None and src != source]
    if clashes:
        shown = listing([f"{i!r} (from {src})" for i, src in clashes], most=5)
        raise DocretError(
            f"{len(clashes):,} of the documents have ids already in the index from another "
            f"path: {shown}. Add them from where they came, give them other ids (add "
            "their parent folder), or replace the stored ones with --replace"
        )


def remove(store: Store, ids: Sequence[str]) -> int:
    """Remove documents by id; all or nothing: any unknown id raises and removes none."""
    with store.transaction():  # store: checked and deleted in one write transaction
        stored = store.document_hashes()
        missing = [i for i in ids if i not in stored]
        if missing:
            raise UnknownDocumentError(
                "No document with id " + listing([repr(i) for i in missing]) + " in the index"
            )
        unique = list(dict.fromkeys(ids))
        if len(stored) - len(unique) < 1:
            raise DocretError("Refusing to remove every document; build a new index instead")
        store.delete_documents(unique)
        store.delete_term_counts(unique)  # rank
    return len(unique)


def _read(
    path, globs, on_skip, progress: Progress, options: ReadOptions | None, db: str | Path
) -> ReadResult:
    """:func:`~docret.corpus.read_documents`, reporting its progress as the "Reading" step;
    a large corpus waits in a temporary file beside the database ``db``."""
    return read_documents(
        path,
        globs,
        on_skip=on_skip,
        on_progress=lambda done, total: progress.step("Reading", done, total),
        options=options,
        spool_dir=_folder_of(db),
    )


def _folder_of(db: str | Path) -> Path:
    return Path(db).resolve().parent

"""The write side of an index: build, add, remove, retrain, and what each reports.

Training needs torch and scikit-learn, imported only when a model is fitted. Every write is
one transaction: a failure or an interrupt leaves the database as it was. The read side
(:class:`~docret.index.Index`) calls these and then loads a fresh snapshot.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from docret.catchup import Baseline, baseline, catch_up
from docret.corpus import (
    TEXTS_SOURCE,
    Document,
    ReadOptions,
    ReadResult,
    Skipped,
    read_documents,
    shown_name,
    text_documents,
    valid_name,
)
from docret.defaults import DEFAULTS, check_settings
from docret.errors import CorpusError, DocretError, TrainingError, UnknownDocumentError, listing
from docret.lexicon import LexicalIndex, TermCounts, store_added
from docret.progress import SILENT, Progress
from docret.rank.calibrate import choose_for_index
from docret.rank.choice import FusionChoice
from docret.rank.codes import pack_bits
from docret.snapshot import Snapshot
from docret.spool import SpooledDocuments, close_spool, labels_of, texts_of
from docret.store import CsrRows, IndexData, Store

if TYPE_CHECKING:
    from docret.encoder import Encoder

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
    # A rebuild of an index of the same path keeps what it cannot read again there:
    kept_others: int = 0  # stored documents added from other paths
    kept_unread: int = 0  # stored documents of the path whose files were not read again

    @property
    def skipped_reasons(self) -> dict[str, int]:
        """How many were skipped for each reason, in the order they were first met."""
        reasons: dict[str, int] = {}
        for s in self.skipped:
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
        return reasons


@dataclass
class AddReport:
    """What :func:`add` did."""

    added: list[str]
    updated: list[str]
    unchanged: int
    skipped: list[Skipped]
    unknown_share: float  # share of the new words (tokens, stop words aside) not in the vocabulary
    removed: list[str] = field(default_factory=list)
    # Stored documents not read again whose files are still there (skipped, unreadable): kept.
    kept: list[str] = field(default_factory=list)

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
            "kept": len(self.kept),
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

    A new database is only created once the model is trained, so a path that cannot be read
    or a training that fails leaves no file behind; a foreign database is refused before
    reading. When ``db`` already indexes ``path``, the rebuild keeps the stored documents it
    cannot read there again: those added from other paths (as :func:`retrain` does) and those
    whose files are still there but were skipped or left out by ``globs``.
    """
    start = time.perf_counter()
    check_settings(settings)  # defaults: refused before anything is read
    Store.ensure_creatable(db)  # store: say so before reading if it cannot be written
    progress = progress or SILENT
    source = _source_name(path)
    # >>> store: an index already in ``db`` is opened, and where it stands noted, before
    # reading: whatever another process commits from then on, even while this one still
    # reads, is kept (docret.catchup)
    store = _open_existing(db)
    base = Baseline(0, {}) if store is None else baseline(store)
    rebuild = store is not None and store.meta().get("source") == source
    # <<< store
    try:
        progress.stage(f"Reading {path}")
        read = _read(path, globs, on_skip, progress, read_options, db)
    except BaseException:
        if store is not None:
            store.close()
        raise
    created = False
    try:
        documents: Sequence[Document] = read.documents
        sources: list[str] = [source] * len(documents)
        kept_others = kept_unread = 0
        if rebuild:
            assert store is not None
            kept, kept_others, kept_unread = _stored_to_keep(store, read, path, source, globs)
            for src, document in kept:
                documents.append(document)  # type: ignore[attr-defined]
                sources.append(src)

        def open_store() -> Store:
            nonlocal store, created
            if store is None:  # a new file: created only now that there is an index to write
                created = not Path(db).exists()
                store = Store.create(db)
            return store

        report = _fit_and_write(open_store, documents, sources, source, progress, settings, base)
    except BaseException:
        if store is not None:
            store.close()
            if created:
                _remove_unbuilt(db)
        raise
    finally:
        close_spool(read.documents)  # the temporary file of a large corpus, if any
    assert store is not None
    report.skipped = read.skipped
    report.kept_others, report.kept_unread = kept_others, kept_unread
    report.seconds = time.perf_counter() - start
    return store, report


def _source_name(path: str | Path) -> str:
    """The absolute path of ``path`` as stored with its documents; raises
    :class:`~docret.errors.CorpusError` where it is not text (not UTF-8 bytes)."""
    source = str(Path(path).resolve())
    if not valid_name(source):
        raise CorpusError(
            f"The path's name is not valid UTF-8: {shown_name(source)}; rename it to index it"
        )
    return source


def _open_existing(db: str | Path) -> Store | None:
    """The database at ``db`` opened for writing if the file exists and is not empty, else
    None (a build creates it once it has an index to write)."""
    p = Path(db)
    if not p.exists() or p.stat().st_size == 0:
        return None
    return Store.create(p)


def _remove_unbuilt(db: str | Path) -> None:
    """Delete the database file a failed build created, unless an index was committed to it
    meanwhile (by another process)."""
    try:
        with Store.open(db) as store:
            if store.meta().get("model_id") is not None:
                return
    except (DocretError, sqlite3.Error):
        pass
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.unlink(f"{db}{suffix}")


def _stored_to_keep(
    store: Store, read: ReadResult, path: str | Path, source: str, globs: Sequence[str] | None
) -> tuple[list[tuple[str, Document]], int, int]:
    """For a rebuild of the index of ``path``: the stored documents it keeps, as (source,
    document), and how many of them came from other paths and how many from files of
    ``path`` that were not read again (skipped, or not matching ``globs``) but are there.

    Raises :class:`~docret.errors.DocretError` before training if a document read has the id
    of one stored from another path, as an update does.
    """
    _refuse_other_sources(store, read.documents, source)
    present = {d.id for d in read.documents}
    with store.snapshot():
        candidates = [(src, d) for src, d in store.iter_documents() if d.id not in present]
    # Documents stored before each one's path was recorded came from the index's path.
    ours = {src for src, _ in candidates} & {source, ""}
    # Of the path's own, only documents of files gone go: not those of files skipped, nor of
    # files that --glob left out (the rebuild did not look at them).
    gone = set(files_gone([d.id for src, d in candidates if src in ours], read, path, globs)[0])
    kept = [(src or source, d) for src, d in candidates if src not in ours or d.id not in gone]
    others = sum(src != source for src, _ in kept)
    return kept, others, len(kept) - others


def files_gone(
    ids: Sequence[str], read: ReadResult, path: str | Path, globs: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Split the ids of stored documents of ``path`` that ``read`` did not read again into
    those that may be removed (their file is gone from ``path``, or was read whole and no
    longer holds them) and those whose files are still there but could not be read (skipped,
    or not listed: a link that leads out, a folder that cannot be read), which are kept.

    With ``globs``, documents of files that match none of them are neither: the update did
    not look at them.
    """
    root = Path(path)
    gone: list[str] = []
    unread: list[str] = []
    if not root.is_dir():  # every document is a record of the one file read
        whole = all(read.files.values())
        return (list(ids), []) if whole else ([], list(ids))
    for doc_id in ids:
        # An id is its file's path relative to ``path``, or that path, "#" and a record key.
        names = [doc_id] + [doc_id[:i] for i, c in enumerate(doc_id) if c == "#" and i]
        if globs and not any(PurePosixPath(n).match(g) for n in names for g in globs):
            continue
        read_whole = [read.files[n] for n in names if n in read.files]
        if read_whole:
            (gone if read_whole[0] else unread).append(doc_id)
        elif any(_exists(root / n) for n in names):
            unread.append(doc_id)
        else:
            gone.append(doc_id)
    return gone, unread


def _exists(p: Path) -> bool:
    """Whether ``p`` is there (a broken link counts); True where that cannot be told."""
    try:
        os.lstat(p)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError):  # no permission to look, a NUL in the name
        return True
    return True


def retrain(store: Store, *, progress: Progress | None = None, **settings: Any) -> BuildReport:
    """Learn a new vocabulary and model from every stored document and re-encode them all.

    Starts from the settings the current model was made with (:func:`stored_settings`) and
    changes only those given in ``settings``: a binary index stays binary.
    """
    start = time.perf_counter()
    check_settings({**stored_settings(store), **settings})  # defaults: before any reading
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
    """The :class:`~docret.encoder.Encoder` settings of the index's current model, as stored
    with it (``hidden`` as a tuple; a setting this docret no longer has left out)."""
    store.current_model_id()  # an index, not a file before its first build
    settings = {k: v for k, v in store.load_settings().items() if k in DEFAULTS.as_dict()}
    if "hidden" in settings:  # a list in JSON
        settings["hidden"] = tuple(settings["hidden"])
    return settings


def _fit_and_write(
    target: Store | Callable[[], Store],
    documents: Sequence[Document],
    sources: Sequence[str],
    source: str,
    progress: Progress,
    settings: dict[str, Any],
    base: Baseline,
) -> BuildReport:
    """Learn vocabulary and model from ``documents`` and replace the index with them,
    keeping what other processes committed since ``base`` (see :mod:`docret.catchup`).

    ``target`` is the store, or what opens it once there is something to write. A training
    that diverged raises :class:`~docret.errors.TrainingError` before anything is written.
    """
    texts = texts_of(documents)  # a lazy view when the documents were spooled to disk
    encoder, terms, tfidf, codes = _fit(texts, settings, progress)
    state = encoder.export()
    _ensure_converged(encoder.history_, codes, state["weights"])
    # >>> rank: BM25's lexicon and the default ranking's fusion weights, chosen from the
    # corpus' pseudo-queries (docret.rank.calibrate: known items, then topics by labels or
    # neighbours),
    # commit together with the index.
    progress.stage("Choosing the default ranking")
    labels = labels_of(documents)
    lexical, choice = choose_for_index(
        texts, encoder, codes, encoder.seed, tfidf, terms, labels=labels
    )
    store = target() if callable(target) else target
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
        written = _write_index(store, data, base, encoder, lexical, choice, progress)
    # <<< rank
    history = encoder.history_
    return BuildReport(
        documents=written,
        skipped=[],
        vocabulary=len(state["vocabulary"]),
        epochs=len(history),
        final_loss=history[-1].loss if history else None,
        final_val_loss=history[-1].val_loss if history else None,
        seconds=0.0,
    )


def _fit(
    texts: Sequence[str], settings: dict[str, Any], progress: Progress
) -> tuple[Encoder, TermCounts, Any, np.ndarray]:
    """The fitted encoder, every term's counts (BM25 ranks by all of them), the documents'
    tf-idf matrix (CSR) over the model's vocabulary, and their codes (N, D)."""
    from docret.encoder import Encoder

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
    return encoder, terms, tfidf, encoder.encode_tfidf(tfidf)


def _write_index(
    store: Store,
    data: IndexData,
    base: Baseline,
    encoder: Encoder,
    lexical: LexicalIndex,
    choice: FusionChoice,
    progress: Progress,
) -> int:
    """Write ``data``, the lexicon's term counts and the ranking ``choice`` inside the open
    write transaction, with what others committed since ``base``; return the documents
    written."""
    documents = data.documents
    # >>> store: documents committed by others since ``base``, encoded with the new model
    merged, arrived = catch_up(store, base, data, encoder)
    kept: set[str] | None = None
    if merged is not data:  # others added or removed documents meanwhile
        kept = {d.id for d in merged.documents[: len(merged.documents) - len(arrived)]}
    # <<< store
    model_id = store.replace_index(merged, progress=progress)
    # rank: BM25's term counts and the fusion weights, in the index's transaction
    rows = lexical.rows([d.id for d in documents])
    if kept is not None:
        rows = (r for r in rows if r[0] in kept)
    store.write_term_counts(lexical.terms, 0, rows, replace=True)
    if arrived and kept is not None:  # store: their term counts too
        store_added(store, lexical.terms, arrived, encoder.analyzer_)
    store.set_ranking(model_id, choice.to_dict())
    return len(merged.documents)


def _ensure_converged(history: Sequence[Any], codes: Any, weights: dict[str, Any]) -> None:
    """Raise :class:`~docret.errors.TrainingError` if training diverged: a loss, a weight or
    a code that is not finite (a step size far too large), which would rank nothing."""
    losses = [h.loss for h in history] + [h.val_loss for h in history if h.val_loss is not None]
    if not np.isfinite(losses).all():
        raise TrainingError(
            "Training diverged (its loss is not finite); nothing was written. A step size or "
            "penalty far too large does this: the default --lr and --code-l2 train"
        )
    if not np.isfinite(codes).all() or not all(np.isfinite(w).all() for w in weights.values()):
        raise TrainingError(
            "Training diverged (the model's weights or codes are not finite); nothing was "
            "written. A step size or penalty far too large does this: the default --lr and "
            "--code-l2 train"
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
    source = _source_name(path)
    read = _read(path, globs, on_skip, progress or SILENT, read_options, store.path)
    try:
        return _add_documents(
            store,
            snapshot,
            read.documents,
            read.skipped,
            source,
            replace=replace,
            find_gone=(lambda missing: files_gone(missing, read, path, globs))
            if remove_missing
            else None,
        )
    finally:
        close_spool(read.documents)  # the temporary file of a large folder, if any


def add_texts(
    store: Store,
    snapshot: Snapshot,
    records: Sequence[Mapping[str, Any]],
    *,
    replace: bool = False,
) -> AddReport:
    """Encode text documents given as records (``id``, ``text``, optional ``title`` and
    ``labels``) with the model of ``snapshot``; see :meth:`docret.index.Index.add_texts`."""
    store.ensure_writable()
    documents = text_documents(records)
    return _add_documents(store, snapshot, documents, [], TEXTS_SOURCE, replace=replace)


def _add_documents(
    store: Store,
    snapshot: Snapshot,
    documents: Sequence[Document],
    skipped: list[Skipped],
    source: str,
    *,
    replace: bool,
    find_gone: Callable[[list[str]], tuple[list[str], list[str]]] | None = None,
) -> AddReport:
    """Write ``documents`` (read from ``source``) that are new or changed, in one transaction.

    With ``find_gone``, the documents stored from ``source`` that were not read again are
    split by it into those to remove (their files are gone) and those to keep; an update that
    would remove every document of ``source`` is refused."""
    n_read = len(documents)
    # store: compare, encode and write inside one write transaction, with what is stored now:
    # another docret may have committed since ``snapshot`` was read (even a new model)
    with store.transaction():
        if snapshot.generation != store.generation():
            snapshot = Snapshot.load(store)
        if not replace:
            _refuse_other_sources(store, documents, source)
        stored = store.document_hashes()
        gone: list[str] = []
        kept: list[str] = []
        if find_gone is not None:
            present = {d.id for d in documents}
            ours = store.document_hashes(source)
            gone, kept = find_gone([i for i in ours if i not in present])
            if ours and len(gone) == len(ours):
                raise DocretError(
                    f"Refusing to remove every document stored from {source} "
                    f"({len(ours):,}): none of them was read there now, so nothing was "
                    "written. If they are really gone, rebuild from what the path holds "
                    "now (docret index PATH --retrain)"
                )
        fresh = [d for d in documents if stored.get(d.id) != d.content_hash]
        vectors = [snapshot.vectorizer.transform_one(d.text) for d in fresh]
        unknown = sum(v.n_unknown for v in vectors)
        known = sum(v.n_known for v in vectors)
        if fresh:
            codes = snapshot.encoder.encode(vectors)
            if not np.isfinite(codes).all():
                raise TrainingError(
                    "The stored model gives codes that are not finite (its training "
                    "diverged); nothing was written. 'docret retrain' learns a new one"
                )
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
            store_added(store, store.load_lexicon(), fresh, analyze)  # rank
        if gone:
            store.delete_documents(gone)
            store.delete_term_counts(gone)  # rank
    return AddReport(
        added=[d.id for d in fresh if d.id not in stored],
        updated=[d.id for d in fresh if d.id in stored],
        unchanged=n_read - len(fresh),
        skipped=skipped,
        unknown_share=unknown / (unknown + known) if unknown + known else 0.0,
        removed=gone,
        kept=kept,
    )


def _refuse_other_sources(store: Store, documents: Sequence[Document], source: str) -> None:
    """Raise if a document's id is already stored from another path: an id names one
    document, and replacing it with an unrelated one must be asked for (``replace``)."""
    stored = store.document_sources([d.id for d in documents])
    clashes = [(i, src) for i, src in stored.items() if src is not None and src != source]
    if clashes:
        shown = listing([f"{i!r} (from {src})" for i, src in clashes], most=5)
        if source == TEXTS_SOURCE:
            advice = "Give them other ids, or ask to replace the stored ones (replace)"
        else:
            advice = (
                "Add them from where they came, give them other ids (add their parent "
                "folder), or replace the stored ones with --replace"
            )
        raise DocretError(
            f"{len(clashes):,} of the documents have ids already in the index from another "
            f"path: {shown}. {advice}"
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


def open_store(db: str | Path, *, readonly: bool = False) -> Store:
    """The store of an index built earlier: a database with no index yet raises
    :class:`~docret.errors.DatabaseError` now, clearly, rather than at the first query."""
    store = Store.open(db, readonly=readonly)
    try:
        store.current_model_id()
    except BaseException:
        store.close()
        raise
    return store


def store_built_from(db: str | Path, path: str | Path) -> Store | None:
    """The store in ``db`` if its index was built from ``path``, else None."""
    if not Path(db).exists():
        return None
    store = Store.open(db)
    try:
        ours = store.meta().get("source") == str(Path(path).resolve())
    except BaseException:
        store.close()
        raise
    if not ours:
        store.close()
        return None
    return store

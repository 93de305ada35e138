"""The write side of an index: build, add, remove, retrain, and what each reports.

Training needs torch and scikit-learn, imported only when a model is fitted. Every write is
one transaction: a failure or an interrupt leaves the database as it was. The read side
(:class:`~docret.index.Index`) calls these and then loads a fresh snapshot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docret.corpus import Document, ReadResult, Skipped, read_documents
from docret.defaults import DEFAULTS
from docret.errors import DocretError, UnknownDocumentError
from docret.fusion import choose_for_index
from docret.lexicon import store_added
from docret.progress import SILENT, Progress
from docret.ranking import pack_bits
from docret.snapshot import Snapshot
from docret.store import IndexData, Store

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


def build(
    path: str | Path,
    db: str | Path,
    *,
    globs: Sequence[str] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> tuple[Store, BuildReport]:
    """Read ``path``, learn vocabulary and model with ``settings``, and replace the index in
    ``db`` with them; return the open store and the report.

    The database is only created once ``path`` has been read, so a path that cannot be read
    leaves no file behind; a foreign database is refused before training.
    """
    start = time.perf_counter()
    progress = progress or SILENT
    progress.stage(f"Reading {path}")
    read = _read(path, globs, on_skip, progress)
    store = Store.create(db)
    source = str(Path(path).resolve())
    try:
        report = _fit_and_write(
            store, read.documents, [source] * len(read.documents), source, progress, settings
        )
    except BaseException:
        store.close()
        raise
    report.skipped = read.skipped
    report.seconds = time.perf_counter() - start
    return store, report


def retrain(store: Store, *, progress: Progress | None = None, **settings: Any) -> BuildReport:
    """Learn a new vocabulary and model from every stored document and re-encode them all.

    Starts from the settings the current model was made with (:func:`stored_settings`) and
    changes only those given in ``settings``: a binary index stays binary.
    """
    start = time.perf_counter()
    stored = store.all_documents()
    report = _fit_and_write(
        store,
        [d for _, d in stored],
        [s for s, _ in stored],
        store.meta().get("source", ""),
        progress or SILENT,
        {**stored_settings(store), **settings},
    )
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
    recorded.update(json.loads(store.meta().get("settings") or "{}"))
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
) -> BuildReport:
    """Learn vocabulary and model from ``documents`` and replace the index with them."""
    from docret.encoder import Encoder

    texts = [d.text for d in documents]
    encoder = Encoder(**settings, progress=progress)
    progress.stage(f"Building the vocabulary of {len(texts):,} documents")
    counts = encoder.fit_vocabulary(texts)
    progress.stage(f"Training the autoencoder on {len(texts):,} documents")
    encoder.fit_model(counts)
    progress.stage("Encoding documents")
    codes = encoder.encode_counts(counts)
    tfidf = encoder.tfidf(counts)
    state = encoder.export()
    # >>> rank: BM25's lexicon and the default ranking's fusion weight, chosen from the
    # corpus' pseudo-queries (docret.fusion), commit together with the index.
    progress.stage("Choosing the default ranking")
    lexical, choice = choose_for_index(texts, encoder, codes, encoder.seed)
    progress.stage(f"Writing {store.path}")
    with store.transaction():
        model_id = store.replace_index(
            IndexData(
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
                settings=state["settings"],
            ),
            progress=progress,
        )
        store.write_term_counts(
            lexical.terms, 0, lexical.rows([d.id for d in documents]), replace=True
        )
        store.set_ranking(model_id, choice.to_dict())
    # <<< rank
    history = encoder.history_
    return BuildReport(
        documents=len(documents),
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
    progress: Progress | None = None,
) -> AddReport:
    """Encode new or changed documents under ``path`` with the model of ``snapshot``.

    See :meth:`docret.index.Index.add`.
    """
    read = _read(path, globs, on_skip, progress or SILENT)
    source = str(Path(path).resolve())
    stored = store.document_hashes()
    gone = []
    if remove_missing:
        present = {d.id for d in read.documents}
        gone = [i for i in store.document_hashes(source) if i not in present]
    fresh = [d for d in read.documents if stored.get(d.id) != d.content_hash]
    vectors = [snapshot.vectorizer.transform_one(d.text) for d in fresh]
    unknown = sum(v.n_unknown for v in vectors)
    known = sum(v.n_known for v in vectors)
    with store.transaction():
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
            store_added(store, snapshot.lexical, snapshot.ids, fresh, analyze)  # rank
        if gone:
            store.delete_documents(gone)
            store.delete_term_counts(gone)  # rank
    return AddReport(
        added=[d.id for d in fresh if d.id not in stored],
        updated=[d.id for d in fresh if d.id in stored],
        unchanged=len(read.documents) - len(fresh),
        skipped=read.skipped,
        unknown_share=unknown / (unknown + known) if unknown + known else 0.0,
        removed=gone,
    )


def remove(store: Store, ids: Sequence[str]) -> int:
    """Remove documents by id; all or nothing: any unknown id raises and removes none."""
    stored = store.document_hashes()
    missing = [i for i in ids if i not in stored]
    if missing:
        raise UnknownDocumentError(
            "No document with id " + ", ".join(repr(i) for i in missing) + " in the index"
        )
    unique = list(dict.fromkeys(ids))
    if len(stored) - len(unique) < 1:
        raise DocretError("Refusing to remove every document; build a new index instead")
    with store.transaction():
        store.delete_documents(unique)
        store.delete_term_counts(unique)  # rank
    return len(unique)


def _read(path, globs, on_skip, progress: Progress) -> ReadResult:
    """:func:`~docret.corpus.read_documents`, reporting its progress as the "Reading" step."""
    return read_documents(
        path,
        globs,
        on_skip=on_skip,
        on_progress=lambda done, total: progress.step("Reading", done, total),
    )

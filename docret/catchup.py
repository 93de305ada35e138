"""Documents other docret processes committed while a model was training.

A build or a retrain reads its documents, trains for minutes, then replaces the whole index.
Writing back only what it read would silently undo whatever another process committed in the
meantime (an ``add``, a ``remove``). Instead the writer notes where the database stood when it
read (:func:`baseline`) and, inside its write transaction, replays on its result what changed
since (:func:`catch_up`): documents added or changed meanwhile are encoded with the new model,
as an ``add`` right after the build would have, and documents removed meanwhile stay removed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from docret.rank.codes import pack_bits
from docret.store import IndexData, Store


@dataclass(frozen=True)
class Baseline:
    """The database as a long write found it: its generation and each document's hash."""

    generation: int
    hashes: dict[str, str]


def baseline(store: Store) -> Baseline:
    """Where ``store`` stands now (read in one snapshot)."""
    with store.snapshot():
        return Baseline(store.generation(), store.document_hashes())


def catch_up(
    store: Store, base: Baseline, data: IndexData, encoder: Any
) -> tuple[IndexData, list[Any]]:
    """``data`` plus what was committed to ``store`` since ``base``, and the documents that
    added or replaced (the last ones of the result's documents).

    Call it inside the write transaction that writes ``data``, so nothing can commit between
    the two. ``encoder`` is the fitted :class:`~docret.encoder.Encoder` that made ``data``.
    """
    if store.generation() == base.generation:
        return data, []
    now = store.document_hashes()
    arrived = {i for i, h in now.items() if base.hashes.get(i) != h}
    gone = base.hashes.keys() - now.keys()
    if not arrived and not gone:  # e.g. another retrain: same documents, other model
        return data, []
    sources = data.document_sources or [data.source] * len(data.documents)
    keep = [k for k, d in enumerate(data.documents) if d.id not in arrived and d.id not in gone]
    new = [(s, d) for s, d in store.all_documents() if d.id in arrived]
    vectors: list[tuple[np.ndarray, np.ndarray]] = []
    codes = np.zeros((0, data.codes.shape[1]), dtype=np.float32)
    if new:
        counts = encoder.vectorize([d.text for _, d in new])
        tfidf = encoder.tfidf(counts)
        codes = encoder.encode_counts(counts)
        vectors = [
            (tfidf.indices[a:b], tfidf.data[a:b])
            for a, b in zip(tfidf.indptr[:-1], tfidf.indptr[1:], strict=True)
        ]
    all_codes = np.concatenate([data.codes[keep], codes]).astype(np.float32)
    merged = replace(
        data,
        documents=[data.documents[k] for k in keep] + [d for _, d in new],
        vectors=[data.vectors[k] for k in keep] + vectors,
        codes=all_codes,
        bits=None if data.bits is None else pack_bits(all_codes),
        document_sources=[sources[k] for k in keep] + [s for s, _ in new],
    )
    return merged, [d for _, d in new]

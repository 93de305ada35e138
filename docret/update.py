"""Bring an index in line with a path: what running ``docret index PATH`` again decides.

:func:`sync` chooses between three writes of :mod:`docret.indexing`, before reading anything:

- **update**: the database already indexes ``path`` (its documents were read from there) and
  no retrain is asked for. New and changed documents are encoded with the stored model and
  those whose files are gone are removed (:func:`docret.indexing.add` with
  ``remove_missing``); settings given are not used, and those that differ from the stored
  model's are named (:attr:`SyncPlan.ignored`) rather than silently dropped.
- **retrain**: the database indexes ``path`` and a retrain is asked for. A new vocabulary and
  model are learned from what ``path`` holds now, starting from the stored model's settings
  and changing only those given; documents added from other paths are kept.
- **build**: the database is missing, empty, or indexes another path. A new index is
  learned with the settings given (the defaults for the rest) and replaces what was there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docret import indexing
from docret.corpus import ReadOptions, Skipped
from docret.defaults import check_settings
from docret.indexing import AddReport, BuildReport
from docret.progress import Progress
from docret.snapshot import Snapshot
from docret.store import Store

UPDATE = "update"
RETRAIN = "retrain"
BUILD = "build"


@dataclass(frozen=True)
class SyncPlan:
    """What :func:`sync` does, decided before anything is read."""

    action: str  # UPDATE, RETRAIN or BUILD (see the module's description)
    # What the index ends up made with: for an update the stored model's settings, for a
    # retrain those merged with the settings given, for a build the settings given alone.
    settings: dict[str, Any]
    ignored: tuple[str, ...] = ()  # an update's given settings that differ from the stored ones


@dataclass
class SyncReport:
    """What :func:`sync` did: its plan, and the report of the update or of the build."""

    database: str
    plan: SyncPlan
    updated: AddReport | None = None  # an update's report
    built: BuildReport | None = None  # a retrain's or a build's report

    @property
    def action(self) -> str:
        """UPDATE, RETRAIN or BUILD."""
        return self.plan.action

    def to_dict(self) -> dict[str, Any]:
        """What ``docret index --json`` prints: an update's :meth:`AddReport.to_dict`, or what
        a build read, skipped and learned."""
        if self.updated is not None:
            return self.updated.to_dict()
        assert self.built is not None
        report = self.built
        return {
            "database": self.database,
            "documents": report.documents,
            "skipped": len(report.skipped),
            "skipped_reasons": report.skipped_reasons,
            "vocabulary": report.vocabulary,
            "epochs": report.epochs,
            "final_loss": report.final_loss,
            "final_val_loss": report.final_val_loss,
            "seconds": round(report.seconds, 2),
            "kept_from_other_paths": report.kept_others,
            "kept_unread": report.kept_unread,
        }


def sync(
    path: str | Path,
    db: str | Path,
    *,
    retrain: bool = False,
    globs: Sequence[str] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    on_plan: Callable[[SyncPlan], None] | None = None,
    progress: Progress | None = None,
    read_options: ReadOptions | None = None,
    **settings: Any,
) -> SyncReport:
    """Update, retrain or build the index of ``path`` in ``db`` (see the module's description).

    ``settings`` are the :class:`~docret.encoder.Encoder` settings given (only those meant to
    change); they are checked before anything is read, and a retrain checks them merged with
    the stored ones, raising :class:`~docret.errors.SettingError`. ``on_plan`` receives the
    :class:`SyncPlan` once decided, before reading starts (say, to warn of ignored settings).
    Every write is one transaction, as :meth:`~docret.index.Index.add` and
    :meth:`~docret.index.Index.build` make it; the database is closed on return.
    """
    check_settings(settings)  # defaults: refused before the database is opened
    store = indexing.store_built_from(db, path)
    try:
        plan = _plan(store, settings, retrain=retrain)
        if on_plan is not None:
            on_plan(plan)
        if plan.action == UPDATE:
            assert store is not None
            updated = indexing.add(
                store,
                Snapshot.load(store),
                path,
                globs=globs,
                on_skip=on_skip,
                remove_missing=True,
                progress=progress,
                read_options=read_options,
            )
            return SyncReport(str(db), plan, updated=updated)
    finally:
        if store is not None:
            store.close()
    built_store, built = indexing.build(
        path,
        db,
        globs=globs,
        on_skip=on_skip,
        progress=progress,
        read_options=read_options,
        **plan.settings,
    )
    built_store.close()
    return SyncReport(str(db), plan, built=built)


def _plan(store: Store | None, settings: dict[str, Any], *, retrain: bool) -> SyncPlan:
    """The plan for ``store``, the database if it indexes the path (else None), given the
    settings given; a retrain's merged settings are checked here, before any reading."""
    if store is None:
        return SyncPlan(BUILD, dict(settings))
    stored = indexing.stored_settings(store)
    if retrain:
        merged = {**stored, **settings}
        check_settings(merged)
        return SyncPlan(RETRAIN, merged)
    ignored = tuple(name for name, value in settings.items() if stored.get(name) != value)
    return SyncPlan(UPDATE, stored, ignored)

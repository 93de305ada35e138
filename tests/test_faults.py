"""Fault injection, the CI-sized version of ``python -m bench.faults``: writers killed at random
moments, readers beside two writers. The database must always pass ``docret check`` and hold
either the old index or the complete new one; no committed write may be lost, no reader may
fail."""

from __future__ import annotations

import random
import shutil
import signal
from pathlib import Path

import pytest

from .conftest import TOPICS, make_text
from .fault_helpers import (
    TINY,
    docret,
    kill_trials,
    readers_and_writers,
    run,
    state,
    write_batch,
    writes_during_reading,
)

QUERY = "orbit rocket"


@pytest.fixture()
def pristine(tiny_db: Path) -> tuple[Path, Path]:
    """The tiny index (checkpointed, so the file can be copied) and the corpus it was built from."""
    return tiny_db, tiny_db.parent / "corpus"


def test_killed_writers_leave_the_old_or_the_complete_new_index(pristine, tmp_path):
    db, corpus = pristine
    old = state(db).ids
    rng = random.Random(0)
    folder, added = write_batch(tmp_path, "new", [make_text(rng, "sailing") for _ in range(4)])
    operations = {
        "index --retrain": (["index", str(corpus), "--retrain", *TINY], old, True),
        "add": (["add", str(folder)], old | set(added), False),
        "retrain": (["retrain", *TINY], old, True),
    }
    results = kill_trials(
        db, tmp_path, operations, trials=1, seed=0, delays=(0.5, 3.0), query=QUERY
    )
    assert len(results) == 3
    for r in results:
        assert r.check_ok and r.query_ok and r.outcome in ("old", "new"), r


def test_kill_as_a_retrain_writes(pristine, tmp_path):
    db = tmp_path / "x.db"
    shutil.copy(pristine[0], db)
    before = state(db)
    proc = docret(db, "retrain", *TINY)
    for line in proc.stderr:
        if line.startswith("Writing"):  # the stage message just before the write transaction
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert run(db, "check").returncode == 0
    after = state(db)
    assert after == before or (after.ids == before.ids and after.model_id == before.model_id + 1)


def test_readers_and_two_writers_lose_nothing(pristine, tmp_path):
    db = tmp_path / "x.db"
    shutil.copy(pristine[0], db)
    rng = random.Random(1)
    texts = [make_text(rng, topic) for topic in TOPICS for _ in range(6)]
    traffic = readers_and_writers(
        db,
        tmp_path,
        texts,
        seconds=2,
        readers=2,
        batch=3,
        retrain_every=2,
        query=QUERY,
        min_steps=2,
    )
    assert traffic.reads > 0 and traffic.reader_errors == []
    assert traffic.writer_errors == []
    assert traffic.writes.get("add", 0) >= 2 and traffic.writes.get("retrain", 0) >= 1
    assert traffic.writes_lost == 0
    assert traffic.check_ok


def test_writes_during_a_rebuilds_reading_are_kept(pristine, tmp_path):
    reading = writes_during_reading(tmp_path, pristine[1])
    assert reading.writes == 3 and reading.rebuild_ok and reading.check_ok
    assert reading.lost == []

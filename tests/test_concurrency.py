"""Several docret processes on one database: no write lost, writers wait their turn. The other
process is always a real one (``python -m docret``)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from docret.index import Index
from docret.progress import Progress
from docret.store import Store

from .conftest import make_text
from .fault_helpers import TINY_OPTIONS, docret, run, state, write_batch


@pytest.fixture()
def db(tmp_path: Path, tiny_db: Path) -> Path:
    shutil.copy(tiny_db, tmp_path / "x.db")
    return tmp_path / "x.db"


def batch(tmp_path: Path, name: str, n: int = 3, seed: int = 1) -> tuple[Path, list[str]]:
    import random

    rng = random.Random(seed)
    return write_batch(tmp_path, name, [make_text(rng, "space") for _ in range(n)])


def test_retrain_keeps_what_another_process_committed_meanwhile(db, tmp_path):
    folder, new_ids = batch(tmp_path, "more")
    before = state(db)
    others = []

    class Meanwhile(Progress):
        def epoch(self, stats, total) -> None:
            # While this process trains, two other processes add and remove documents.
            if not others:
                others.append(run(db, "add", folder))
                others.append(run(db, "remove", "music/000.txt"))

    with Index.open(db) as idx:
        report = idx.retrain(progress=Meanwhile(), **TINY_OPTIONS)
    assert [o.returncode for o in others] == [0, 0], [o.stderr for o in others]
    after = state(db)
    assert after.model_id == before.model_id + 1
    assert after.ids == (before.ids | set(new_ids)) - {"music/000.txt"}
    assert report.documents == len(after.ids)
    with Store.open(db) as store:
        assert store.check().ok, store.check().problems
    with Index.open(db) as idx:
        # The documents added meanwhile carry codes of the new model, as an add would give them.
        rows = [idx.ids.index(i) for i in new_ids]
        texts = [idx.document(i).text for i in new_ids]
        np.testing.assert_allclose(idx.snapshot.codes[rows], idx.encode(texts), atol=1e-4)


def test_add_encodes_with_a_model_retrained_after_it_was_loaded(db, tmp_path):
    folder, new_ids = batch(tmp_path, "late")
    with Index.open(db) as idx:
        old = idx.snapshot  # the old model, in memory
        retrained = run(
            db,
            "retrain",
            "--epochs",
            "2",
            "--hidden",
            "32",
            "--code-size",
            "8",
            "--vocab-size",
            "500",
            "--no-pretrain",
            "--seed",
            "7",
        )
        assert retrained.returncode == 0, retrained.stderr
        idx.add(folder)
        rows = [idx.ids.index(i) for i in new_ids]
        assert idx.snapshot.model["id"] == state(db).model_id != old.model["id"]
        texts = [idx.document(i).text for i in new_ids]
        np.testing.assert_allclose(idx.snapshot.codes[rows], idx.encode(texts), atol=1e-5)


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another writer in the middle of a transaction (the test process itself)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_two_adds_at_once_both_succeed(db, tmp_path):
    (a, a_ids), (b, b_ids) = batch(tmp_path, "a", seed=2), batch(tmp_path, "b", seed=3)
    before = state(db)
    with Store.open(db) as store:
        generation = store.generation()
    lock = hold_write_lock(db)
    first, second = docret(db, "add", str(a)), docret(db, "add", str(b))
    time.sleep(1.5)  # both start and find the database locked by this process
    lock.execute("COMMIT")
    lock.close()
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert state(db).ids == before.ids | set(a_ids) | set(b_ids)
    with Store.open(db) as store:
        assert store.generation() == generation + 2


def test_writer_gives_up_with_one_line_after_the_busy_timeout(db, tmp_path):
    folder, _ = batch(tmp_path, "c")
    before = state(db)
    lock = hold_write_lock(db)
    try:
        waiting = docret(db, "add", str(folder), env={"DOCRET_BUSY_TIMEOUT": "0.5"})
        _, err = waiting.communicate(timeout=120)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert waiting.returncode == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "Error" in line]  # progress lines aside
    assert len(errors) == 1 and errors[0].startswith(f"Error: {db} is locked by another process")
    said = float(errors[0].split("still busy after ", 1)[1].split(" s", 1)[0])
    assert 0.5 <= said < 2.0  # waited about what it was told, and says so
    assert state(db) == before


def test_every_write_transaction_bumps_the_generation(db, tmp_path):
    folder, ids = batch(tmp_path, "d")
    with Index.open(db) as idx:
        start = idx.store.generation()
        idx.query("orbit rocket")
        assert idx.store.generation() == start  # reading writes nothing
        idx.add(folder)
        assert idx.store.generation() == start + 1
        idx.remove(ids[:1])
        assert idx.store.generation() == start + 2
        with pytest.raises(Exception, match="No document"):
            idx.remove(["nope"])
        assert idx.store.generation() == start + 2  # a refused write commits nothing

"""Crafted, rotted and foreign database files: every command ends with one clear line (or
works), never a traceback or a crash; ``check`` names what is wrong; a command that only reads
leaves any file exactly as it was; a lock held by another program is reported as such."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from docret.cli import cli
from docret.errors import DamagedDatabaseError, DatabaseError
from docret.index import Index

from .fault_helpers import (
    CRAFTED,
    CRAFTED_COMMANDS,
    TINY,
    TINY_OPTIONS,
    clean_ending,
    common_word,
    crafted_args,
    docret,
    limited_memory,
    write_batch,
)

# Kinds whose term ids would send numpy or scipy past the end of an array: their loaders are
# asserted to refuse them before any command runs, so that a regression fails a test rather
# than crashing the test process.
OUT_OF_RANGE = {
    "vector term id past the vocabulary": "vectors",
    "negative vector term id": "vectors",
    "term count id past the lexicon": "term counts",
}


def invoke(db: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(
        cli, ["-d", str(db), *map(str, args)], env=env, catch_exceptions=False
    )


def crafted_copy(tiny_db: Path, folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "crafted.db"
    shutil.copy(tiny_db, db)
    CRAFTED[kind](db)
    return db


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_one(db: Path, sql: str) -> Any:
    """The first value ``sql`` reads from ``db``, opened read-only by SQLite itself."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def first_id(db: Path) -> str:
    return read_one(db, "select id from documents order by rowid limit 1")


def refuses_to_load(db: Path, what: str) -> None:
    """Assert that loading the vectors or the term counts of ``db`` raises: only the loaders
    run, no scipy product and no bincount over the ids."""
    with Index.open(db, readonly=True) as idx:
        snap = idx.snapshot
        read = snap._vectors if what == "vectors" else snap.read_lexical
        with pytest.raises(DamagedDatabaseError, match="term ids outside"):
            read()


# -- term ids past the arrays: refused where they are loaded ----------------------------------
@pytest.mark.parametrize("kind", sorted(OUT_OF_RANGE))
def test_out_of_range_term_ids_are_refused_when_loaded(kind, tiny_db, tmp_path):
    db = crafted_copy(tiny_db, tmp_path, kind)
    refuses_to_load(db, OUT_OF_RANGE[kind])
    found = invoke(db, "check")
    assert found.exit_code == 1
    assert f"{OUT_OF_RANGE[kind]} hold 1 term ids outside" in found.stderr


@pytest.mark.parametrize(
    ("kind", "method"),
    [("vector term id past the vocabulary", "lsa"), ("term count id past the lexicon", "bm25")],
)
def test_query_on_out_of_range_term_ids_neither_crashes_nor_allocates(
    kind, method, tiny_db, tmp_path
):
    # A child process of bounded memory: a regression segfaults or fails there, not here.
    db = crafted_copy(tiny_db, tmp_path, kind)
    proc = docret(db, "query", common_word(tiny_db), "--method", method, preexec_fn=limited_memory)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err[-2000:]
    assert clean_ending("query", proc.returncode, err), err[-2000:]
    assert "The file is damaged" in err and "term ids outside" in err


# -- every kind of damage, every command ------------------------------------------------------
@pytest.mark.parametrize("kind", list(CRAFTED))
def test_every_command_ends_cleanly_on_a_crafted_file(kind, tiny_db, tmp_path):
    """Exit 0, or exit 1 with one ``Error:`` line; never a traceback; ``check`` finds it."""
    word, doc_id = common_word(tiny_db), first_id(tiny_db)
    folder, _ = write_batch(tmp_path / "add", "extra", [f"{word} added text {word}"])
    if kind in OUT_OF_RANGE:  # the loaders must refuse before a command may run on it
        refuses_to_load(crafted_copy(tiny_db, tmp_path, kind), OUT_OF_RANGE[kind])
    read_only = crafted_copy(tiny_db, tmp_path / "read", kind)
    unchanged = digest(read_only)
    refused = {}
    for command in CRAFTED_COMMANDS:
        writes = command in ("add", "retrain", "remove")
        db = crafted_copy(tiny_db, tmp_path / command, kind) if writes else read_only
        result = invoke(db, *crafted_args(command, doc_id, word, folder))
        assert "Traceback" not in result.output, (command, result.output)
        assert clean_ending(command, result.exit_code, result.stderr), (command, result.stderr)
        assert writes or digest(db) == unchanged, f"{command} changed the file"
        refused[command] = result.exit_code
    assert refused["check"] == 1, f"check found nothing wrong in a file with {kind}"


@pytest.mark.parametrize(
    "kind",
    ["invalid UTF-8 in a title", "invalid UTF-8 in a term", "damaged pages"],
)
def test_text_that_is_not_utf8_or_a_damaged_page_says_the_file_is_damaged(kind, tiny_db, tmp_path):
    word = common_word(tiny_db)
    db = crafted_copy(tiny_db, tmp_path, kind)
    reads = [("query", word), ("query", word, "--method", "tfidf")]
    if kind != "invalid UTF-8 in a title":  # a title is read only with a hit
        reads += [("info",), ("explain", word), ("words", first_id(tiny_db))]
    for args in reads:
        result = invoke(db, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.strip().startswith("Error: The file is damaged"), (args, result.stderr)
    found = invoke(db, "check")
    assert found.exit_code == 1
    if kind != "damaged pages":
        assert "not UTF-8 text" in found.stderr, found.stderr


def test_retrain_of_text_that_is_not_utf8_writes_nothing(tiny_db, tmp_path):
    db = crafted_copy(tiny_db, tmp_path, "invalid UTF-8 in a title")
    before = digest(db)
    result = invoke(db, "retrain", *TINY)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: The file is damaged"), result.stderr
    assert digest(db) == before


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("schema_version not a number", "meta schema_version is 'five'"),
        ("model_id not a number", "meta model_id is 'one'"),
        ("generation not a number", "meta generation is 'many'"),
        ("model_id naming no model", "the current model (99) is missing"),
        ("model config not JSON", "the model's config is not JSON"),
        ("settings not JSON", "meta settings is not JSON"),
        ("unknown activation", "the model's activation 'swish' is unknown"),
        ("unknown stemmer", "the model's stemmer 'klingon' is unknown"),
        ("weight shape unlike its data", "weight 'input_weight' holds"),
        ("weight shape unlike the model", "weight encoder.0.weight has the shape [32, 8]"),
        ("truncated weight blob", "weight 'decoder.0.weight' holds 10 bytes"),
        ("code of the wrong length", "1 codes are not 8 numbers long"),
        ("empty vocabulary", "the vocabulary has 0 terms"),
        ("empty documents table", "the index holds no documents"),
        ("NaN vector weight", "vectors hold NaN or infinite values"),
        ("negative term count", "term counts hold NaN, infinite or negative values"),
        ("surface form of no term", "stems to term 1000000"),
    ],
)
def test_check_says_what_is_wrong(kind, problem, tiny_db, tmp_path):
    db = crafted_copy(tiny_db, tmp_path, kind)
    result = invoke(db, "check")
    assert result.exit_code == 1
    assert problem in result.stderr, result.stderr


def test_a_sound_index_still_checks_ok(tiny_db, tmp_path):
    db = tmp_path / "x.db"
    shutil.copy(tiny_db, db)
    result = invoke(db, "check")
    assert result.exit_code == 0, result.stderr


# -- reading changes nothing --------------------------------------------------------------------
def foreign_file(path: Path) -> Path:
    """Another program's SQLite file in rollback-journal mode."""
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, body text)")
    conn.execute("insert into notes (body) values ('keep me as I am')")
    conn.commit()
    conn.close()
    return path


def rollback_mode_index(tiny_db: Path, path: Path) -> Path:
    """A docret index switched to rollback-journal mode (as a copy tool might leave it)."""
    shutil.copy(tiny_db, path)
    conn = sqlite3.connect(path)
    assert conn.execute("pragma journal_mode = delete").fetchone()[0] == "delete"
    conn.close()
    return path


def journal_mode(path: Path) -> str:
    return read_one(path, "pragma journal_mode")


@pytest.mark.parametrize("kind", ["foreign", "rollback-mode index", "zero bytes"])
def test_commands_that_only_read_leave_the_file_as_it_was(kind, tiny_db, tmp_path):
    path = tmp_path / "file.db"
    if kind == "foreign":
        foreign_file(path)
    elif kind == "rollback-mode index":
        rollback_mode_index(tiny_db, path)
    else:
        path.write_bytes(b"")
    before, mode = digest(path), journal_mode(path) if kind != "zero bytes" else None
    word = common_word(tiny_db)
    for args in [
        ("info",),
        ("query", word),
        ("check",),
        ("similar", first_id(tiny_db)),
        ("words", first_id(tiny_db)),
        ("explain", word),
    ]:
        result = invoke(path, *args)
        assert "Traceback" not in result.output
        if kind == "rollback-mode index":
            assert result.exit_code == 0, (args, result.stderr)
        else:
            assert result.exit_code == 1, (args, result.output)
        assert digest(path) == before, f"{args[0]} changed the file"
        if mode is not None:
            assert journal_mode(path) == mode, f"{args[0]} changed the journal mode"
    assert not Path(f"{path}-wal").exists() or kind == "rollback-mode index"


def test_the_first_write_switches_an_index_to_the_write_ahead_log(tiny_db, tmp_path):
    db = rollback_mode_index(tiny_db, tmp_path / "x.db")
    assert invoke(db, "remove", first_id(tiny_db)).exit_code == 0
    assert journal_mode(db) == "wal"


# -- a lock held by another program -------------------------------------------------------------
@pytest.mark.parametrize("command", ["info", "query", "check"])
def test_a_reader_locked_out_says_so_after_the_wait_it_was_told(command, tiny_db, tmp_path):
    db = rollback_mode_index(tiny_db, tmp_path / "x.db")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("begin exclusive")  # another program: in rollback mode, readers wait
    try:
        args = {"info": ["info"], "query": ["query", common_word(tiny_db)], "check": ["check"]}
        start = time.monotonic()
        result = invoke(db, *args[command], env={"DOCRET_BUSY_TIMEOUT": "0.5"})
        waited = time.monotonic() - start
    finally:
        holder.execute("rollback")
        holder.close()
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert "is locked by another process" in line and "Another docret" not in line, line
    said = float(re.search(r"still busy after ([0-9.]+) s", line).group(1))
    assert 0.5 <= said <= min(waited, 2.0) + 0.05, (said, waited)  # waited what it was told


def test_a_reader_waits_for_a_lock_held_briefly(tiny_db, tmp_path):
    """Within the timeout a reader gets its answer once the other program lets go."""
    import threading

    db = rollback_mode_index(tiny_db, tmp_path / "x.db")
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("begin exclusive")
    release = threading.Timer(1.0, lambda: (holder.execute("rollback"), holder.close()))
    release.start()
    try:
        result = invoke(db, "info", env={"DOCRET_BUSY_TIMEOUT": "30"})
    finally:
        release.join()
    assert result.exit_code == 0, result.stderr


def test_the_python_api_opens_read_only_when_asked(tiny_db, tmp_path):
    db = rollback_mode_index(tiny_db, tmp_path / "x.db")
    with Index.open(db, readonly=True) as idx:
        assert idx.query(common_word(tiny_db))
        with pytest.raises(DatabaseError, match="Cannot write"):
            idx.remove([first_id(tiny_db)])
    assert journal_mode(db) == "delete"


def test_the_python_api_says_the_file_is_damaged_for_text_that_is_not_utf8(tiny_db, tmp_path):
    db = crafted_copy(tiny_db, tmp_path, "invalid UTF-8 in a title")
    before = digest(db)
    with Index.open(db) as idx:
        with pytest.raises(DamagedDatabaseError, match="not UTF-8"):
            idx.query(common_word(tiny_db))
        with pytest.raises(DamagedDatabaseError, match="not UTF-8"):
            idx.retrain(**TINY_OPTIONS)
    assert digest(db) == before


def test_index_refuses_a_foreign_file_and_leaves_it_as_it_was(corpus_dir, tmp_path):
    path = foreign_file(tmp_path / "notes.db")
    before = digest(path)
    result = invoke(path, "index", corpus_dir, *TINY)
    assert result.exit_code == 1 and "Not a docret database" in result.stderr
    assert digest(path) == before and journal_mode(path) == "delete"

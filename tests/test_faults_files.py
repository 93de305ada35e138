"""Databases that are read-only, damaged, inconsistent or somewhere odd: one clear line each,
nothing written, and ``docret check`` to say what is wrong."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from docret.cli import cli

from .conftest import write_corpus

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def db(tmp_path: Path, tiny_db: Path) -> Path:
    """A private copy of the tiny index, alone in its folder."""
    folder = tmp_path / "index"
    folder.mkdir()
    shutil.copy(tiny_db, folder / "x.db")
    return folder / "x.db"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(result, *words: str) -> None:
    """Exit code 1, no traceback, and a message on one line that contains ``words``."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


# -- docret check ----------------------------------------------------------------------------
def test_check_passes_on_a_sound_index(db):
    result = invoke("-d", db, "check")
    assert result.exit_code == 0, result.output
    assert "OK" in result.stderr and "20 documents" in result.stderr


def test_check_finds_documents_without_a_code_of_the_current_model(db):
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("delete from codes where id = 'space/000.txt'")
        conn.execute("update codes set model_id = model_id + 7 where id = 'music/001.txt'")
        conn.execute("update codes set code = x'00' where id = 'music/002.txt'")
    conn.close()
    result = invoke("-d", db, "check")
    assert result.exit_code == 1
    assert "1 documents have no code" in result.stderr
    assert "1 codes are of another model" in result.stderr
    assert "1 codes are not 8 numbers long" in result.stderr
    assert "Traceback" not in result.output


# -- damaged files -----------------------------------------------------------------------------
def damage(db: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage, as a disk error would."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("pragma page_size").fetchone()[0]
    (root,) = conn.execute("select rootpage from sqlite_master where name = ?", [table]).fetchone()
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes([0x0D, 0xFF, 0xFF]) + b"\xa5" * (page_size - 3))


def test_damaged_file_one_line_and_no_write(db):
    damage(db, "weights")  # a table that removing documents does not touch
    before = digest(db)
    one_line_error(invoke("-d", db, "remove", "space/000.txt"), "damaged", "check", "index")
    one_line_error(invoke("-d", db, "info"), "The file is damaged", str(db))
    assert digest(db) == before  # nothing was written
    result = invoke("-d", db, "check")
    assert result.exit_code == 1 and "SQLite" in result.stderr
    assert "Traceback" not in result.output


def test_damaged_codes_fail_queries_with_one_line(db):
    damage(db, "codes")
    one_line_error(invoke("-d", db, "query", "orbit rocket"), "The file is damaged")
    one_line_error(invoke("-d", db, "similar", "space/000.txt"), "The file is damaged")


# -- paths that lead nowhere -------------------------------------------------------------------
def test_missing_folder_and_empty_path_say_what_is_wrong(tmp_path, corpus_dir):
    missing = tmp_path / "nowhere" / "x.db"
    one_line_error(invoke("-d", missing, "query", "orbit"), "not found", "does not exist")
    one_line_error(invoke("-d", missing, "index", corpus_dir), "Cannot create", "does not exist")
    assert not missing.parent.exists()
    one_line_error(invoke("-d", "", "info"), "No database file given")


# -- read-only files and folders ---------------------------------------------------------------
def _can_mount_read_only() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0
    except OSError:
        return False


@contextlib.contextmanager
def read_only(path: Path):
    """A command prefix under which ``path`` (a file or a folder) cannot be written.

    Root ignores file modes, so as root ``path`` is bind-mounted read-only in a private mount
    namespace (``unshare``); otherwise its mode is taken away for the duration.
    """
    if os.geteuid() == 0:
        if not _can_mount_read_only():
            pytest.skip("running as root without unshare: cannot make a path read-only")
        script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
        yield ["unshare", "-rm", "sh", "-c", script, str(path)]
        return
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield []
    finally:
        path.chmod(mode)


def run_docret(prefix: list[str], *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "docret", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_index_in_a_read_only_folder_is_read_and_not_written(db, tmp_path):
    more = write_corpus(tmp_path / "more", per_topic=1, seed=3)
    before = digest(db)
    with read_only(db.parent) as prefix:
        found = run_docret(prefix, "-d", db, "query", "orbit rocket", "--json")
        assert found.returncode == 0, found.stderr
        assert '"id": "space/' in found.stdout
        check = run_docret(prefix, "-d", db, "check")
        assert check.returncode == 0, check.stderr
        added = run_docret(prefix, "-d", db, "add", more)
    assert added.returncode == 1 and "Traceback" not in added.stderr
    assert added.stderr.strip().count("\n") == 0
    assert "Cannot write to" in added.stderr and "read-only" in added.stderr
    assert sorted(p.name for p in db.parent.iterdir()) == ["x.db"]  # no side files
    assert digest(db) == before


def test_read_only_file_in_a_writable_folder(db):
    before = digest(db)
    with read_only(db) as prefix:
        found = run_docret(prefix, "-d", db, "similar", "space/001.txt", "--json")
        removed = run_docret(prefix, "-d", db, "remove", "space/001.txt")
    assert found.returncode == 0, found.stderr
    assert removed.returncode == 1 and "Traceback" not in removed.stderr
    assert "Cannot write to" in removed.stderr and "the file is read-only" in removed.stderr
    assert digest(db) == before

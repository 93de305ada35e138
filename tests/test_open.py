"""``docret open``: back from a hit to the file it was read from, and only to such a file."""

import os
import shutil
from pathlib import Path

import click
from click.testing import CliRunner

from docret.cli import cli
from docret.index import Index


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_open_prints_or_launches_the_file_a_document_was_read_from(
    built_db, corpus_dir, monkeypatch
):
    with Index.open(built_db, readonly=True) as index:
        doc_id = index.ids[0]
    expected = os.path.realpath(corpus_dir / doc_id)
    r = run("-d", built_db, "open", doc_id, "--print")
    assert r.exit_code == 0 and r.output.strip() == expected
    launched = []
    monkeypatch.setattr(click, "launch", lambda path: launched.append(path) or 0)
    assert run("-d", built_db, "open", doc_id).exit_code == 0
    assert launched == [expected]
    monkeypatch.setattr(click, "launch", lambda path: 1)
    r = run("-d", built_db, "open", doc_id)
    assert r.exit_code == 1 and "could not open" in r.output


def test_a_document_without_a_file_of_its_own_is_refused_in_one_line(built_db, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(built_db, db)
    with Index.open(db) as index:
        index.add_texts([{"id": "note", "text": "rocket launch window orbit"}])
    r = run("-d", db, "open", "note")
    assert r.exit_code == 1 and "no file of its own" in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = run("-d", db, "open", "no-such-id")
    assert r.exit_code == 1 and "No document with id" in r.output


def test_a_file_moved_out_of_its_folder_is_not_opened(built_db, corpus_dir, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(built_db, db)
    with Index.open(db, readonly=True) as index:
        doc_id = index.ids[0]
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not indexed here", encoding="utf-8")
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("update documents set path = ? where id = ?", [str(outside), doc_id])
    r = run("-d", db, "open", doc_id, "--print")
    assert r.exit_code == 1 and str(Path(outside)) not in r.output

"""Running ``docret index PATH`` again loses nothing it should keep: writes committed while it
reads, documents added from other paths, documents of files it skipped or did not look at
(``--glob``), and the previous index when training diverges or a file name is not text."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from docret.cli import cli
from docret.index import Index
from docret.progress import Progress
from docret.store import Store

from .conftest import write_corpus
from .fault_helpers import TINY, TINY_OPTIONS, state, write_batch


def invoke(*args, code: int = 0):
    """Run the CLI in this process, check its exit code, return the result."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A private corpus of 20 files and a tiny index of it."""
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    db = tmp_path / "x.db"
    Index.build(corpus, db, **TINY_OPTIONS).close()
    return corpus, db


def check_ok(db: Path) -> None:
    with Store.open(db) as store:
        report = store.check()
    assert report.ok, report.problems


def test_a_write_committed_while_a_rebuild_reads_is_kept(indexed, tmp_path):
    corpus, db = indexed
    other, other_ids = write_batch(tmp_path, "other", ["Sailing log\n\nharbor sail anchor hull"])
    changed = corpus / "space" / "000.txt"
    new_text = "Space revised\n\norbit rocket launch satellite astronaut revised\n"

    class WriteWhileReading(Progress):
        """Another writer commits once the rebuild has read every file, before it trains."""

        done = False

        def step(self, stage: str, done: int, total: int | None) -> None:
            if stage == "Reading" and not self.done:
                self.done = True
                changed.write_text(new_text, encoding="utf-8")
                with Index.open(db) as other_writer:
                    assert other_writer.add(corpus).updated == ["space/000.txt"]
                with Index.open(db) as other_writer:
                    assert other_writer.add(other).added == other_ids

    with Index.build(corpus, db, progress=WriteWhileReading(), **TINY_OPTIONS) as rebuilt:
        assert rebuilt.document("space/000.txt").text == new_text
        assert set(other_ids) <= set(rebuilt.ids)
        assert len(rebuilt.ids) == 21
    check_ok(db)


def test_index_retrain_keeps_documents_added_from_other_paths(indexed, tmp_path):
    corpus, db = indexed
    other, other_ids = write_batch(tmp_path, "other", ["Sailing log\n\nharbor sail anchor hull"])
    invoke("-d", db, "add", other)
    result = invoke("-d", db, "index", corpus, "--retrain", *TINY)
    assert "Kept 1 stored documents added from other paths" in result.output
    with Index.open(db) as idx:
        assert set(other_ids) <= set(idx.ids) and len(idx.ids) == 21
        assert idx.store.document_sources(other_ids) == {other_ids[0]: str(other.resolve())}
    check_ok(db)


def test_an_update_with_a_glob_removes_only_matching_files_that_are_gone(indexed):
    corpus, db = indexed
    before = state(db)
    out = invoke("-d", db, "index", corpus, "--glob", "space/001.txt", "--json").stdout
    assert json.loads(out)["removed"] == []
    assert state(db).ids == before.ids

    (corpus / "space" / "002.txt").unlink()
    (corpus / "music" / "002.txt").unlink()  # gone, but outside the glob: not looked at
    out = invoke("-d", db, "index", corpus, "--glob", "space/*.txt", "--json").stdout
    assert json.loads(out)["removed"] == ["space/002.txt"]
    assert state(db).ids == before.ids - {"space/002.txt"}


def test_an_update_never_removes_every_document_of_its_path(indexed, tmp_path):
    corpus, db = indexed
    before = state(db)
    shutil.move(corpus, tmp_path / "elsewhere")
    (corpus / "unrelated").mkdir(parents=True)
    (corpus / "unrelated" / "note.txt").write_text("Note\n\norbit rocket launch\n")
    result = invoke("-d", db, "index", corpus, code=1)
    assert "Refusing to remove every document stored from" in result.output
    assert "Traceback" not in result.output
    assert state(db) == before


def without_lxml(reader) -> tuple[str, ...]:
    """What a reader misses where lxml is not installed."""
    return ("lxml",) if "lxml" in reader.requires else ()


def indexed_with_a_page(indexed: tuple[Path, Path]) -> tuple[Path, Path]:
    """The indexed corpus with an HTML page added to it and to its index."""
    corpus, db = indexed
    page = "<html><head><title>Harbor</title></head><body><p>harbor sail anchor</p></body></html>"
    (corpus / "page.html").write_text(page, encoding="utf-8")
    invoke("-d", db, "index", corpus)
    return corpus, db


def test_an_update_keeps_documents_whose_files_were_skipped(indexed, monkeypatch):
    pytest.importorskip("lxml")
    from docret.readers import registry

    corpus, db = indexed_with_a_page(indexed)
    assert "page.html" in state(db).ids

    # Run where the optional library is missing: the page is skipped, not gone.
    monkeypatch.setattr(registry, "missing_modules", without_lxml)
    result = invoke("-d", db, "index", corpus)
    assert "HTML support not installed" in result.output
    assert "Kept 1 stored documents whose files could not be read" in result.output
    assert "page.html" in state(db).ids
    out = invoke("-d", db, "index", corpus, "--json").stdout
    assert json.loads(out)["removed"] == [] and json.loads(out)["kept"] == 1

    (corpus / "page.html").unlink()  # now it is gone: removed
    out = invoke("-d", db, "index", corpus, "--json").stdout
    assert json.loads(out)["removed"] == ["page.html"]


def test_a_rebuild_keeps_documents_whose_files_were_skipped(indexed, monkeypatch):
    pytest.importorskip("lxml")
    from docret.readers import registry

    corpus, db = indexed_with_a_page(indexed)
    monkeypatch.setattr(registry, "missing_modules", without_lxml)
    result = invoke("-d", db, "index", corpus, "--retrain", *TINY)
    assert "Kept 1 stored documents whose files were not read again" in result.output
    assert "page.html" in state(db).ids
    check_ok(db)


def test_a_rebuild_with_a_glob_keeps_the_documents_of_other_files(indexed):
    corpus, db = indexed
    before = state(db).ids
    (corpus / "space" / "001.txt").unlink()  # gone and matching: dropped
    result = invoke("-d", db, "index", corpus, "--retrain", "--glob", "space/*.txt", *TINY)
    assert "Kept 15 stored documents whose files were not read again" in result.output
    assert state(db).ids == before - {"space/001.txt"}
    check_ok(db)


def test_a_file_name_that_is_not_utf8_is_one_skip_line(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    bad = os.path.join(os.fsencode(corpus / "space"), b"bad\xff.txt")
    try:
        with open(bad, "wb") as f:
            f.write(b"Bad name\n\norbit rocket launch\n")
    except OSError:
        pytest.skip("the file system refuses names that are not UTF-8")
    db = tmp_path / "x.db"
    result = invoke("-d", db, "index", corpus, *TINY)
    assert "space/bad\\xff.txt: file name is not valid UTF-8" in result.output
    assert len(state(db).ids) == 20
    check_ok(db)
    result = invoke("-d", db, "index", corpus)  # the update skips it the same way
    assert "file name is not valid UTF-8" in result.output


def test_json_escapes_of_lone_surrogates_do_not_abort_a_build(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    records = [{"id": "a", "text": "orbit rocket \ud800 launch"}, {"id": "b\udc00", "text": "sail"}]
    (corpus / "x.jsonl").write_text("\n".join(map(json.dumps, records)), encoding="utf-8")
    db = tmp_path / "x.db"
    result = invoke("-d", db, "index", corpus, *TINY)
    assert "x.jsonl#b\\udc00: id is not valid UTF-8" in result.output
    with Index.open(db) as idx:
        assert idx.document("x.jsonl#a").text == "orbit rocket \ufffd launch"
    check_ok(db)


def diverge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every training end as a diverged one does: weights and losses NaN."""
    import torch

    from docret import train

    fit = train.fit

    def diverged(model, *args, **kwargs):
        history = fit(model, *args, **kwargs)
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float("nan"))
        for h in history:
            h.loss = float("nan")
        return history

    monkeypatch.setattr(train, "fit", diverged)


def test_a_diverged_training_writes_nothing(indexed, monkeypatch):
    corpus, db = indexed
    before = state(db)
    diverge(monkeypatch)
    for args in (["index", corpus, "--retrain", *TINY], ["retrain", *TINY]):
        result = invoke("-d", db, *args, code=1)
        assert "Error: Training diverged (its loss is not finite); nothing was written" in (
            result.output
        )
        assert "Traceback" not in result.output
        assert state(db) == before
    check_ok(db)


def test_a_failed_fresh_build_leaves_no_file(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    db = tmp_path / "new.db"
    diverge(monkeypatch)
    invoke("-d", db, "index", corpus, *TINY, code=1)
    assert list(tmp_path.glob("new.db*")) == []


def test_add_refuses_codes_that_are_not_finite(indexed, tmp_path, monkeypatch):
    from docret.inference import NumpyEncoder

    corpus, db = indexed
    before = state(db)
    other, _ = write_batch(tmp_path, "other", ["Sailing log\n\nharbor sail anchor hull"])
    monkeypatch.setattr(
        NumpyEncoder, "encode", lambda self, vectors: np.full((len(vectors), 8), np.nan)
    )
    result = invoke("-d", db, "add", other, code=1)
    assert "not finite" in result.output and "Traceback" not in result.output
    assert state(db) == before

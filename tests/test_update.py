"""Keeping an index current: add and remove with the stored model, no retraining."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from docret import DocretError, UnknownDocumentError
from docret.cli import cli
from docret.index import Index
from docret.ranking import pack_bits

from .conftest import FAST, write_corpus


@pytest.fixture()
def db_copy(tmp_path, built_db):
    """A private copy of the session's built index, safe to change."""
    target = tmp_path / "copy.db"
    shutil.copy(built_db, target)
    return target


def test_remove_then_add_gives_the_same_codes_and_results(db_copy, corpus_dir, tmp_path):
    with Index.open(db_copy) as idx:
        before_code = idx.raw_codes[idx.ids.index("space/003.txt")].copy()
        before = idx.query("orbit rocket", k=10)
        assert idx.remove(["space/003.txt", "music/004.txt"]) == 2
        assert "space/003.txt" not in idx.ids and len(idx.ids) == 78
        assert all(h.id != "space/003.txt" for h in idx.query("orbit rocket", k=80))

        for doc_id in ("space/003.txt", "music/004.txt"):
            (tmp_path / "again" / doc_id).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(corpus_dir / doc_id, tmp_path / "again" / doc_id)
        report = idx.add(tmp_path / "again")
        # ids are relative to the path added, as in a build
        assert sorted(report.added) == ["music/004.txt", "space/003.txt"]
        assert idx.document("music/004.txt").labels == ["music"]
        code = idx.raw_codes[idx.ids.index("space/003.txt")]
        np.testing.assert_allclose(code, before_code, atol=1e-5)
        after = idx.query("orbit rocket", k=10)
        assert [h.id for h in after] == [h.id for h in before]


def test_add_skips_unchanged_and_replaces_changed(db_copy, corpus_dir, tmp_path):
    with Index.open(db_copy) as idx:
        report = idx.add(corpus_dir)
        assert (report.added, report.updated, report.unchanged) == ([], [], 80)
        changed = write_corpus(tmp_path / "changed", per_topic=1, seed=99)
        position = idx.ids.index("music/000.txt")
        report = idx.add(changed)
        assert sorted(report.updated) == sorted(
            f"{t}/000.txt" for t in ("space", "cooking", "sailing", "music")
        )
        assert report.added == []
        assert idx.ids.index("music/000.txt") == position  # replaced in place
        assert "zebra" not in idx.document("music/000.txt").text
        assert idx.document("music/000.txt").text == (changed / "music" / "000.txt").read_text()


def test_unknown_words_advise_a_retrain(db_copy, tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "odd.txt").write_text("Quasar\n\nquokka wombat platypus echidna orbit")
    with Index.open(db_copy) as idx:
        report = idx.add(tmp_path / "new")
    assert report.added == ["odd.txt"]
    assert report.unknown_share == pytest.approx(5 / 6)
    assert report.retrain_advised


def test_remove_is_all_or_nothing(db_copy):
    with Index.open(db_copy) as idx:
        with pytest.raises(UnknownDocumentError, match="'nope'"):
            idx.remove(["space/001.txt", "nope"])
        assert "space/001.txt" in idx.ids
        with pytest.raises(DocretError, match="every document"):
            idx.remove(list(idx.ids))
        assert len(idx.ids) == 80


def test_cli_add_and_remove(db_copy, tmp_path):
    runner = CliRunner()
    extra = write_corpus(tmp_path / "extra", per_topic=1, seed=5)
    (extra / "space" / "000.txt").rename(extra / "space" / "new.txt")
    result = runner.invoke(cli, ["-d", str(db_copy), "add", str(extra), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["added"] == ["space/new.txt"] and len(data["updated"]) == 3
    result = runner.invoke(cli, ["-d", str(db_copy), "remove", "space/new.txt", "--json"])
    assert json.loads(result.stdout) == {"removed": 1}
    result = runner.invoke(cli, ["-d", str(db_copy), "remove", "ghost"])
    assert result.exit_code == 1 and "No document with id 'ghost'" in result.output
    assert "Traceback" not in result.output


def test_add_to_a_binary_index_stores_bits(tmp_path, corpus_dir):
    db = tmp_path / "bin.db"
    Index.build(corpus_dir, db, **{**FAST, "binary": True, "code_size": 16}).close()
    extra = write_corpus(tmp_path / "extra", per_topic=1, seed=8)
    for f in list(extra.rglob("*.txt")):
        f.rename(f.with_name("new-" + f.name))
    with Index.open(db) as idx:
        idx.add(extra)
        assert idx.bits.shape == (84, 1)
        new = [idx.ids.index(f"{t}/new-000.txt") for t in ("space", "music")]
        np.testing.assert_array_equal(idx.bits[new], pack_bits(idx.raw_codes[new]))

"""Keeping an index current: add and remove with the stored model, no retraining."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from docret import DocretError, UnknownDocumentError
from docret.cli import cli
from docret.index import Index
from docret.rank.codes import pack_bits

from .conftest import FAST, write_corpus


def invoke(*args, code: int = 0):
    """Run the CLI (exceptions not swallowed), check its exit code, return the result."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def as_json(*args) -> dict:
    """The JSON output of a CLI command that must succeed."""
    return json.loads(invoke(*args).stdout)


@pytest.fixture()
def db_copy(tmp_path, built_db):
    """A private copy of the session's built index, safe to change."""
    target = tmp_path / "copy.db"
    shutil.copy(built_db, target)
    return target


def test_remove_then_add_gives_the_same_codes_and_results(db_copy, corpus_dir, tmp_path):
    with Index.open(db_copy) as idx:
        before_code = idx.snapshot.codes[idx.ids.index("space/003.txt")].copy()
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
        code = idx.snapshot.codes[idx.ids.index("space/003.txt")]
        np.testing.assert_allclose(code, before_code, atol=1e-5)
        after = idx.query("orbit rocket", k=10)
        assert [h.id for h in after] == [h.id for h in before]


def test_add_skips_unchanged_and_replaces_changed(db_copy, corpus_dir, tmp_path):
    with Index.open(db_copy) as idx:
        report = idx.add(corpus_dir)
        assert (report.added, report.updated, report.unchanged) == ([], [], 80)
        changed = write_corpus(tmp_path / "changed", per_topic=1, seed=99)
        position = idx.ids.index("music/000.txt")
        report = idx.add(changed, replace=True)  # same ids from another folder: asked for
        assert sorted(report.updated) == sorted(
            f"{t}/000.txt" for t in ("space", "cooking", "sailing", "music")
        )
        assert report.added == []
        assert idx.ids.index("music/000.txt") == position  # replaced in place
        assert idx.document("music/000.txt").text != (corpus_dir / "music/000.txt").read_text()
        assert idx.document("music/000.txt").text == (changed / "music" / "000.txt").read_text()


def test_after_a_write_the_likelihood_decodes_only_new_or_changed_codes(
    db_copy, tmp_path, monkeypatch
):
    from docret.inference import NumpyDecoder

    decoded_rows = []
    parts = NumpyDecoder.likelihood_parts

    def counting(self, codes, chunk=2048):
        decoded_rows.append(len(codes))
        return parts(self, codes, chunk)

    monkeypatch.setattr(NumpyDecoder, "likelihood_parts", counting)
    with Index.open(db_copy) as idx:
        before = idx.query("orbit rocket", k=5, method="likelihood")
        assert decoded_rows == [80]
        idx.remove(["space/003.txt"])
        changed = write_corpus(tmp_path / "changed", per_topic=1, seed=99)
        idx.add(changed, replace=True)  # four documents replaced in place
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / "launch.txt").write_text("orbit rocket launch crew capsule orbit\n")
        idx.add(tmp_path / "new")  # and one new document
        after = idx.query("orbit rocket", k=5, method="likelihood")
        # Only the four changed documents and the new one were decoded after the first query.
        assert decoded_rows[0] == 80 and sum(decoded_rows[1:]) == 5
        carried = idx.snapshot.decoded
        fresh = parts(idx.snapshot.decoder, idx.snapshot.codes)
    for kept, made in zip(carried, fresh, strict=True):
        np.testing.assert_allclose(kept, made, atol=1e-5)
    assert [h.id for h in before] != [] and len(after) == 5
    # A new model (retrain) decodes every code again.
    with Index.open(db_copy) as idx:
        idx.query("orbit rocket", k=5, method="likelihood")
        decoded_rows.clear()
        idx.retrain(epochs=2)
        idx.query("orbit rocket", k=5, method="likelihood")
        assert decoded_rows == [len(idx.ids)]


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
    extra = write_corpus(tmp_path / "extra", per_topic=1, seed=5)
    (extra / "space" / "000.txt").rename(extra / "space" / "new.txt")
    data = as_json("-d", db_copy, "add", extra, "--replace", "--json")
    assert data["added"] == ["space/new.txt"] and len(data["updated"]) == 3
    assert as_json("-d", db_copy, "remove", "space/new.txt", "--json") == {"removed": 1}
    result = invoke("-d", db_copy, "remove", "ghost", code=1)
    assert "No document with id 'ghost'" in result.output
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
        np.testing.assert_array_equal(idx.bits[new], pack_bits(idx.snapshot.codes[new]))


def test_reindexing_the_same_folder_only_touches_what_changed(tmp_path):
    corpus = write_corpus(tmp_path / "c", per_topic=5)
    db = tmp_path / "r.db"
    args = ["-d", db, "index", corpus, "--json"]
    fast = ["--hidden", "32,16", "--code-size", "8", "--epochs", "5", "--vocab-size", "300"]
    first = as_json(*args, *fast)
    assert first["documents"] == 20
    model_id = as_json("-d", db, "info", "--json")["model"]["id"]

    again = as_json(*args)
    assert (again["added"], again["updated"], again["removed"], again["unchanged"]) == (
        [],
        [],
        [],
        20,
    )

    (corpus / "music" / "000.txt").write_text("Music again\n\nviolin violin chord melody")
    (corpus / "space" / "001.txt").unlink()
    (corpus / "space" / "new.txt").write_text("New\n\norbit rocket launch")
    again = as_json(*args)
    assert again["added"] == ["space/new.txt"] and again["updated"] == ["music/000.txt"]
    assert again["removed"] == ["space/001.txt"] and again["unchanged"] == 18
    info = as_json("-d", db, "info", "--json")
    assert info["model"]["id"] == model_id and info["documents"] == 20

    # --retrain starts from the stored settings: only --epochs changes here
    retrained = as_json(*args, "--epochs", "2", "--retrain")
    assert retrained["documents"] == 20 and retrained["epochs"] <= 2
    info = as_json("-d", db, "info", "--json")
    assert info["model"]["id"] != model_id
    assert info["model"]["layers"] == [32, 16] and info["model"]["code_size"] == 8


def test_retrain_replaces_model_and_codes_atomically(db_copy, monkeypatch):
    with Index.open(db_copy) as idx:
        old_model = idx.info()["model"]["id"]
        old_codes = idx.snapshot.codes.copy()
        from docret import train

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(train, "fit", interrupted)
        with pytest.raises(KeyboardInterrupt):
            idx.retrain(**FAST)
        assert idx.info()["model"]["id"] == old_model
        np.testing.assert_array_equal(idx.snapshot.codes, old_codes)
        monkeypatch.undo()

        report = idx.retrain(**{**FAST, "code_size": 4})
        assert report.documents == 80
        assert idx.info()["model"]["id"] != old_model
        assert idx.snapshot.codes.shape == (80, 4)
        assert idx.document("music/001.txt").labels == ["music"]
        hits = idx.query("guitar melody chord", k=10)
        assert sum(h.id.startswith("music/") for h in hits) >= 7


def test_retrain_command(db_copy):
    args = ["-d", db_copy, "retrain", "--hidden", "32,16", "--code-size", "6", "--epochs", "3"]
    assert as_json(*args, "--json")["documents"] == 80
    info = as_json("-d", db_copy, "info", "--json")
    assert info["model"]["code_size"] == 6 and info["model"]["binary"] is False


def test_info_reports_unknown_words_of_added_documents(db_copy, tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "odd.txt").write_text("Quasar\n\nquokka wombat platypus echidna orbit")
    before = as_json("-d", db_copy, "info", "--json")
    assert before["updated"] is None and before["retrain_advised"] is False
    invoke("-d", db_copy, "add", tmp_path / "new")
    info = as_json("-d", db_copy, "info", "--json")
    assert info["added_unknown_share"] == pytest.approx(5 / 6, abs=1e-4)
    assert info["retrain_advised"] is True
    text = invoke("-d", db_copy, "info").stdout
    assert "83% of the added words" in text and "retrain" in text


def test_retrain_to_binary_codes(db_copy):
    invoke("-d", db_copy, "retrain", "--hidden", "32,16", "--epochs", "3", "--binary", "16")
    info = as_json("-d", db_copy, "info", "--json")
    assert info["model"]["binary"] is True and info["model"]["code_size"] == 16
    with Index.open(db_copy) as idx:
        assert idx.bits.shape == (80, 1)


def test_retrain_without_options_keeps_the_stored_settings(db_copy):
    invoke("-d", db_copy, "retrain", "--hidden", "32,16", "--epochs", "2", "--binary", "16")
    settings = Index.open(db_copy).settings()
    assert settings["binary"] and settings["code_size"] == 16 and settings["epochs"] == 2
    invoke("-d", db_copy, "retrain")  # what the index was built with, not the defaults
    info = as_json("-d", db_copy, "info", "--json")
    assert info["model"]["binary"] is True and info["model"]["code_size"] == 16
    assert info["model"]["layers"] == [32, 16] and info["model"]["epochs_trained"] <= 2
    assert info["model"]["seed"] == FAST["seed"]
    with Index.open(db_copy) as idx:
        assert idx.settings() == settings and idx.bits.shape == (80, 1)
    invoke("-d", db_copy, "retrain", "--binary", "0")  # back to float codes of that size
    info = as_json("-d", db_copy, "info", "--json")
    assert info["model"]["binary"] is False and info["model"]["code_size"] == 16
    with Index.open(db_copy) as idx:
        assert idx.bits is None


def test_writes_replace_the_snapshot_whole_and_readers_reload(db_copy):
    with Index.open(db_copy) as writer, Index.open(db_copy) as reader:
        old = reader.snapshot
        assert writer.snapshot is not old  # each Index holds its own
        writer.remove(["space/001.txt"])
        assert len(writer.ids) == 79 and "space/001.txt" not in writer.snapshot.row_of
        # the reader keeps answering from its snapshot, unchanged, until it reloads
        assert reader.snapshot is old and len(old.ids) == 80 and old.codes.shape[0] == 80
        with pytest.raises(AttributeError):
            old.ids = []
        assert reader.reload() is reader.snapshot and len(reader.ids) == 79

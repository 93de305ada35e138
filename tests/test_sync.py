"""Index.sync: the update, retrain or build that running ``docret index PATH`` again chooses."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from docret.errors import DocretError, SettingError
from docret.index import Index
from docret.update import BUILD, RETRAIN, UPDATE, SyncPlan

from .conftest import write_corpus

# The smallest training that runs: these tests look at what is decided, not at the model.
TINY = dict(epochs=2, hidden=(32,), code_size=8, vocab_size=300, pretrain=False, device="cpu")


@pytest.fixture()
def synced(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus of 20 files and its index, built by a first sync."""
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    report = Index.sync(corpus, tmp_path / "x.db", **TINY)
    assert report.action == BUILD
    return corpus, tmp_path / "x.db"


def model_id(db: Path) -> int:
    with Index.open(db) as idx:
        return idx.info()["model"]["id"]


def test_a_first_sync_builds_with_the_settings_given(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    plans: list[SyncPlan] = []
    report = Index.sync(corpus, tmp_path / "new.db", on_plan=plans.append, **TINY)
    assert [p.action for p in plans] == [BUILD] and report.plan == plans[0]
    assert report.plan.settings == TINY and report.plan.ignored == ()
    assert report.updated is None and report.built.documents == 20
    data = report.to_dict()
    assert data["database"] == str(tmp_path / "new.db") and data["documents"] == 20
    assert data["epochs"] == report.built.epochs <= 2
    with Index.open(tmp_path / "new.db") as idx:
        assert len(idx.ids) == 20 and idx.settings()["hidden"] == (32,)


def test_a_sync_of_the_same_path_updates_what_changed_with_the_stored_model(synced):
    corpus, db = synced
    before = model_id(db)
    (corpus / "music" / "000.txt").write_text("Music again\n\nviolin violin chord melody")
    (corpus / "space" / "001.txt").unlink()
    (corpus / "space" / "new.txt").write_text("New\n\norbit rocket launch")
    report = Index.sync(corpus, db)
    assert report.action == UPDATE and report.built is None
    assert report.updated.added == ["space/new.txt"]
    assert report.updated.updated == ["music/000.txt"]
    assert report.updated.removed == ["space/001.txt"] and report.updated.unchanged == 18
    assert report.to_dict() == report.updated.to_dict()
    assert model_id(db) == before
    again = Index.sync(corpus, db)
    assert again.action == UPDATE and again.updated.unchanged == 20
    assert not (again.updated.added or again.updated.updated or again.updated.removed)


def test_an_update_names_the_settings_it_ignores(synced):
    corpus, db = synced
    with Index.open(db) as idx:
        stored = idx.settings()
    report = Index.sync(corpus, db, code_size=5, binary=True, epochs=stored["epochs"])
    assert report.action == UPDATE and report.plan.ignored == ("code_size", "binary")
    assert report.plan.settings == stored  # the update keeps the stored model's settings
    with Index.open(db) as idx:
        assert idx.settings() == stored


def test_a_retrain_starts_from_the_stored_settings_and_keeps_other_paths(synced, tmp_path):
    corpus, db = synced
    other = write_corpus(tmp_path / "other", per_topic=1, seed=7)
    with Index.open(db) as idx:
        stored = idx.settings()
        idx.add(other / "music")  # ids like 000.txt: no clash with the corpus' ids
    before = model_id(db)
    report = Index.sync(corpus, db, retrain=True, epochs=1)
    assert report.action == RETRAIN and report.plan.settings == {**stored, "epochs": 1}
    assert report.built.kept_others == 1 and report.built.documents == 21
    assert report.to_dict()["kept_from_other_paths"] == 1
    assert model_id(db) != before
    with Index.open(db) as idx:
        assert idx.settings()["hidden"] == (32,) and idx.settings()["epochs"] == 1


def test_a_retrain_refuses_merged_settings_that_do_not_fit_before_reading(synced):
    corpus, db = synced
    before = db.read_bytes()
    plans: list[SyncPlan] = []
    # the stored vocabulary (300) is no wider than this code: refused, the stored index stays
    with pytest.raises(SettingError, match=r"larger than code_size \(600\)") as raised:
        Index.sync(corpus, db, retrain=True, on_plan=plans.append, code_size=600)
    assert raised.value.setting == "vocab_size"
    assert plans == [] and db.read_bytes() == before
    # without --retrain the same setting is only ignored
    assert Index.sync(corpus, db, code_size=600).plan.ignored == ("code_size",)


def test_settings_given_are_checked_before_the_database_is_opened(tmp_path):
    (tmp_path / "foreign.db").write_text("not a database")
    for db in (tmp_path / "new.db", tmp_path / "foreign.db"):
        with pytest.raises(SettingError, match="lr must be"):
            Index.sync(tmp_path / "missing", db, lr=math.nan)
    assert not (tmp_path / "new.db").exists()


def test_a_database_of_another_path_is_rebuilt_from_the_settings_given(synced, tmp_path):
    _, db = synced
    other = write_corpus(tmp_path / "other", per_topic=3, seed=5)
    settings = {**TINY, "hidden": (16,)}
    report = Index.sync(other, db, **settings)
    assert report.action == BUILD and report.plan.settings == settings
    assert report.built.documents == 12 and report.built.kept_others == 0
    with Index.open(db) as idx:
        assert len(idx.ids) == 12 and idx.settings()["hidden"] == (16,)


def test_an_update_that_would_remove_every_document_is_refused(synced, tmp_path):
    corpus, db = synced
    before = db.read_bytes()
    shutil.move(corpus, tmp_path / "elsewhere")
    (corpus / "unrelated").mkdir(parents=True)
    (corpus / "unrelated" / "note.txt").write_text("Note\n\norbit rocket launch\n")
    with pytest.raises(DocretError, match="Refusing to remove every document stored from"):
        Index.sync(corpus, db)
    assert db.read_bytes() == before


def test_the_plan_comes_before_reading_and_skips_follow(synced):
    corpus, db = synced
    (corpus / "empty.txt").write_text("")
    events: list[str] = []
    report = Index.sync(
        corpus,
        db,
        on_plan=lambda plan: events.append(plan.action),
        on_skip=lambda skipped: events.append(skipped.source),
    )
    assert events == [UPDATE, "empty.txt"]
    assert [s.source for s in report.updated.skipped] == ["empty.txt"]


def test_a_build_report_counts_skips_by_reason(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    (corpus / "a.txt").write_text("")
    (corpus / "b.txt").write_text("")
    (corpus / "c.txt").write_bytes(b"\x00\x00binary")
    report = Index.sync(corpus, tmp_path / "x.db", **TINY)
    assert report.built.skipped_reasons == {"empty": 2, "binary file": 1}
    data = report.to_dict()
    assert data["skipped"] == 3 and data["skipped_reasons"] == report.built.skipped_reasons

"""Files of every earlier schema, as the docret of each wrote them, opened by this one.

Each ``tests/data/schemas/NAME.db`` was built by an earlier docret (the commit in NAME.json)
from a small seeded corpus (``tests/data/schemas/make_fixtures.py``); NAME.json holds the top 5
of a few queries by every ranking method that docret had (``written``) and by the last docret
before schema 6, which read old files through compatibility branches (``before``), with the
settings a retrain started from and the ranking it read. The migrations rewrite the old rows
into the current form, so this docret must answer as ``before`` did, bit for bit, and as
``written`` did wherever docret still ranks the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from docret.errors import DatabaseError
from docret.index import Index
from docret.store import SCHEMA_VERSION, Store

SCHEMAS = Path(__file__).parent / "data" / "schemas"
NAMES = sorted(p.stem for p in SCHEMAS.glob("*.db"))

# What an old docret called the ranking it answered with, by the name of the same ranking now:
# before there were methods, a float index ranked by the cosine of its codes.
RENAMED = {"v1-short": {"default": "codes"}, "v3-short": {"default": "codes"}}
# Rankings docret changed after the file's docret answered: the migrated file answers as docret
# ranks its stored form now (``before``), which the old docret's answers do not match.
FEEDBACK = "the default ranking ranks a second time, with feedback in the learned spaces"
CHANGED = {
    ("v2-binary", "rerank"): "Hamming candidates are re-ranked by the logit cosine plus the "
    "tf-idf cosine, no longer by the logit cosine alone",
    ("v4-short", "default"): FEEDBACK,
    ("v5-short", "default"): FEEDBACK,
    ("v5-short-lsa", "default"): FEEDBACK,
}


def _record(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def _copy(name: str, tmp_path: Path) -> Path:
    db = tmp_path / f"{name}.db"
    shutil.copy(SCHEMAS / f"{name}.db", db)
    return db


def _answers(index: Index, queries: list[str], method: str) -> list[list[list]]:
    """The top 5 (id, score) of each query, as make_fixtures.py recorded them."""
    options = {"rerank": 10} if method == "rerank" else {"method": method}
    return [[[h.id, float(h.score)] for h in index.query(q, 5, **options)] for q in queries]


def test_every_schema_has_a_fixture():
    schemas = {int(name.split("-")[0][1:]) for name in NAMES}
    assert schemas == set(range(1, 6))
    for name in NAMES:
        with sqlite3.connect(SCHEMAS / f"{name}.db") as conn:
            (version,) = conn.execute("select value from meta where key = 'schema_version'")
        assert int(version[0]) == int(name.split("-")[0][1:]) < SCHEMA_VERSION


@pytest.mark.parametrize("name", NAMES)
def test_an_old_file_answers_as_before(name, tmp_path):
    record = _record(name)
    with Index.open(_copy(name, tmp_path)) as index:
        for method, expected in record["before"]["answers"].items():
            assert _answers(index, record["queries"], method) == expected, method
        for method, written in record["written"].items():
            now = RENAMED.get(name, {}).get(method, method)
            answers = _answers(index, record["queries"], now)
            if (name, method) in CHANGED:
                assert answers != written, CHANGED[(name, method)]
                assert answers == record["before"]["answers"][now]
            else:  # the same ranking of the same stored rows: the same ids and scores
                assert answers == written, method


@pytest.mark.parametrize("name", NAMES)
def test_a_migrated_file_holds_what_this_docret_writes(name, tmp_path):
    from docret.defaults import DEFAULTS
    from docret.rank.choice import FusionChoice

    db = _copy(name, tmp_path)
    before = _record(name)["before"]
    with Index.open(db) as index:
        store = index.store
        assert store.meta_int("schema_version") == SCHEMA_VERSION
        assert store.check().ok, store.check().problems
        # The ranking: in the form FusionChoice stores, the one the old docret read.
        ranking = store.load_ranking()
        assert FusionChoice.from_dict(ranking).to_dict() == ranking
        assert ranking == _renamed({k: v for k, v in before["ranking"].items() if k != "default"})
        # The settings: every one a build records, as the old docret's retrain assumed them.
        settings = store.load_settings()
        assert list(settings) == list(DEFAULTS.as_dict()) and settings == before["settings"]
        assert index.settings() == {**settings, "hidden": tuple(settings["hidden"])}
        _assert_counts_are_fresh(store, index.ids)


def _renamed(ranking: dict) -> dict:
    """A ranking as the last docret before schema 6 wrote it, its codes' weight keyed "codes"."""
    out = {("codes" if k == "weight" else k): v for k, v in ranking.items()}
    if "long" in out:
        out["long"] = _renamed(out["long"])
    return out


def _assert_counts_are_fresh(store: Store, ids: list[str]) -> None:
    """The stored lexicon and term counts are those a fresh count of the stored texts gives."""
    from docret.lexicon import count_corpus
    from docret.text import Analyzer

    model, _ = store.load_model()
    vocabulary, _ = store.load_vocabulary()
    analyze = Analyzer.from_dict(model["analyzer"], store.load_surface_forms(vocabulary))
    texts = store.documents(ids)
    fresh = count_corpus([texts[i].text for i in ids], analyze)
    terms = store.load_lexicon()
    found, indptr, indices, counts = store.load_term_counts(len(terms))
    assert found == ids and terms == fresh.terms
    for stored, counted in ((indptr, fresh.indptr), (indices, fresh.indices)):
        np.testing.assert_array_equal(stored, counted)
    np.testing.assert_array_equal(counts, fresh.counts)


def test_bm25_ranks_an_index_built_before_it_by_counts_the_upgrade_stored(tmp_path):
    db = _copy("v1-short", tmp_path)
    with sqlite3.connect(db) as conn:
        assert "term_counts" not in {r[0] for r in conn.execute("select name from sqlite_master")}
    with Index.open(db) as index:
        count = "select count(*) from term_counts"
        assert index.store.db.execute(count).fetchone()[0] == len(index.ids) == 32
        assert index.fusion.codes == 0.0 and index.fusion.lsa == 0.0
        bm25 = index.query("anchor hull", k=10, method="bm25")
        assert index.query("anchor hull", k=10) == bm25  # the default is BM25 alone
        folder = tmp_path / "more" / "sailing"
        folder.mkdir(parents=True)
        (folder / "x.txt").write_text("Quasar\n\n" + "quasar anchor " * 10)
        index.add(tmp_path / "more")
    with Index.open(db) as index:
        assert index.store.db.execute(count).fetchone()[0] == 33
        assert index.query("quasar", k=1, method="bm25")[0].id == "sailing/x.txt"


def test_a_read_only_open_upgrades_a_writable_file_once(tmp_path):
    db = _copy("v3-short", tmp_path)
    with Store.open(db, readonly=True) as store:
        assert store.meta_int("schema_version") == SCHEMA_VERSION
    upgraded = db.read_bytes()
    with Store.open(db, readonly=True) as store:  # current now: read-only, left as it is
        assert store.readonly
    assert db.read_bytes() == upgraded


def test_an_old_file_that_cannot_be_written_says_it_needs_an_upgrade(tmp_path, monkeypatch):
    import docret.store.base

    db = _copy("v4-short", tmp_path)
    original = db.read_bytes()
    monkeypatch.setattr(docret.store.base, "why_not_writable", lambda p: "the file is read-only")
    for readonly in (False, True):
        with pytest.raises(DatabaseError, match="older docret and needs an upgrade"):
            Store.open(db, readonly=readonly)
    assert db.read_bytes() == original
    assert not os.path.exists(f"{db}-wal")


def test_the_upgrade_rewrites_each_form_an_older_docret_stored_its_ranking_in():
    from docret.store.backfill import canonical_ranking

    bm25 = {"k1": 1.5, "b": 0.75, "mrr": {}}
    nothing = {"codes": 0.0, "lsa": 0.0, "queries": 0, "mrr": {}, "chosen_by": "known items"}
    assert canonical_ranking(None) == {**nothing, "bm25": bm25}
    codes_alone = {"weight": 0.3, "queries": 9, "mrr": {"0.0": 0.1, "0.3": 0.2}}
    assert canonical_ranking(codes_alone) == {
        **nothing,
        "codes": 0.3,
        "queries": 9,
        "mrr": {"0.0,0.0": 0.1, "0.3,0.0": 0.2},
        "bm25": bm25,
    }
    for by_labels, chosen_by in ((True, "labels"), (False, "known items")):
        old = {"weight": 0.2, "lsa": 0.1, "by_labels": by_labels, "topical": {"0.2,0.1": 0.5}}
        new = canonical_ranking(old)
        assert new["chosen_by"] == chosen_by and new["topical"] == {"0.2,0.1": 0.5}
        assert "by_labels" not in new and "weight" not in new
    long = {"weight": 0.4, "lsa": 0.2, "queries": 30, "terms": 41.0, "chosen_by": "labels"}
    new = canonical_ranking({**codes_alone, "chosen_by": "neighbours", "long": long})
    assert new["chosen_by"] == "neighbours"
    assert new["long"] == {
        "codes": 0.4,
        "lsa": 0.2,
        "queries": 30,
        "terms": 41.0,
        "chosen_by": "labels",
    }


def test_the_ranking_is_read_in_its_current_form_only():
    from docret.rank.choice import FusionChoice

    with pytest.raises(KeyError):
        FusionChoice.from_dict({"weight": 0.3, "queries": 9, "mrr": {"0.0": 0.1}})

import sqlite3

import numpy as np
import pytest
import sqlite_utils

from docret.corpus import Document
from docret.errors import DatabaseError
from docret.store import SCHEMA_VERSION, IndexData, Store, from_blob, migrations, to_blob


@pytest.fixture(autouse=True)
def close_databases(monkeypatch):
    """Close every Store a test opens, as sqlite-utils' own tests close their databases."""
    opened: list[Store] = []
    original = Store.__init__

    def tracking(self, *args, **kwargs):
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Store, "__init__", tracking)
    yield
    for store in opened:
        store.close()


def _data(n=3, d=4, tag="a"):
    docs = [
        Document(id=f"{tag}{i}", text=f"text {tag} {i}", title=f"T{i}", labels=("x",))
        for i in range(n)
    ]
    return IndexData(
        documents=docs,
        vectors=[(np.array([0, 2], np.int32), np.array([0.6, 0.8], np.float32))] * n,
        codes=np.arange(n * d, dtype=np.float32).reshape(n, d),
        bits=None,
        vocabulary=["alpha", "beta", "gamma"],
        surface_forms={"alphas": 0, "gamma": 2},
        df=np.array([1, 2, 3]),
        idf=np.array([1.5, 1.2, 1.0], np.float32),
        analyzer={"stemmer": "porter", "stop_words": [], "token_pattern": "x"},
        config={"vocab_size": 3, "hidden": [2], "code_size": d, "activation": "relu"},
        train_config={"seed": 0},
        history=[{"epoch": 1, "loss": 1.0, "val_loss": None}],
        weights={"w": np.ones((2, 3), np.float32)},
        source="somewhere",
    )


def test_blobs_are_little_endian_float32():
    a = np.array([1.0, -2.5], dtype=np.float32)
    blob = to_blob(a)
    assert blob == np.array([1.0, -2.5], dtype="<f4").tobytes()
    assert len(blob) == 8
    np.testing.assert_array_equal(from_blob(blob), a)


def test_create_migrates_and_uses_wal(tmp_path):
    store = Store.create(tmp_path / "x.db")
    assert {"documents", "vectors", "codes", "vocabulary", "models", "weights", "meta"} <= set(
        store.db.table_names()
    )
    assert store.db.journal_mode == "wal"
    assert store.meta()["schema_version"] == str(SCHEMA_VERSION)


def test_write_and_read_back(tmp_path):
    store = Store.create(tmp_path / "x.db")
    store.replace_index(_data())
    store.close()
    store = Store.open(tmp_path / "x.db")
    ids, codes, bits = store.load_codes()
    assert ids == ["a0", "a1", "a2"]
    np.testing.assert_array_equal(codes, _data().codes)
    assert bits is None
    terms, idf = store.load_vocabulary()
    assert terms == ["alpha", "beta", "gamma"]
    assert store.load_surface_forms(terms) == {"alphas": "alpha", "gamma": "gamma"}
    info, weights = store.load_model()
    assert info["config"]["code_size"] == 4
    np.testing.assert_array_equal(weights["w"], np.ones((2, 3)))
    ids, indptr, indices, values = store.load_vectors()
    assert indptr.tolist() == [0, 2, 4, 6] and indices.tolist() == [0, 2] * 3
    docs = store.documents(["a1", "zzz"])
    assert list(docs) == ["a1"] and docs["a1"].labels == ["x"]
    assert store.label_counts() == {"x": 3}


def test_replace_is_atomic(tmp_path, monkeypatch):
    store = Store.create(tmp_path / "x.db")
    store.replace_index(_data(tag="old"))
    calls = {"n": 0}
    original = sqlite_utils.db.Table.insert_all

    def failing_insert_all(self, *args, **kwargs):
        calls["n"] += 1
        if self.name == "codes":  # the last write of a build
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.db.Table, "insert_all", failing_insert_all)
    with pytest.raises(KeyboardInterrupt):
        store.replace_index(_data(n=5, tag="new"))
    assert calls["n"] >= 4  # documents and vectors were already written when it broke
    monkeypatch.undo()
    reopened = Store.open(tmp_path / "x.db")
    ids, _, _ = reopened.load_codes()
    assert ids == ["old0", "old1", "old2"]


def test_missing_foreign_and_newer_databases(tmp_path):
    with pytest.raises(DatabaseError, match="not found"):
        Store.open(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match="Not a docret database"):
        Store.open(junk)

    other = tmp_path / "other.db"
    with sqlite_utils.Database(other) as db:
        db["people"].insert({"name": "Ada"})
    for fn in (Store.open, Store.create):
        with pytest.raises(DatabaseError, match="Not a docret database"):
            fn(other)
    with sqlite_utils.Database(other) as db:
        assert list(db["people"].rows) == [{"name": "Ada"}]

    newer = tmp_path / "newer.db"
    Store.create(newer).replace_index(_data())
    conn = sqlite3.connect(newer)
    conn.execute(
        "update meta set value = ? where key = 'schema_version'", [str(SCHEMA_VERSION + 1)]
    )
    conn.commit()
    conn.close()
    for fn in (Store.open, Store.create):
        with pytest.raises(DatabaseError, match="newer docret"):
            fn(newer)


def test_empty_database_has_no_index(tmp_path):
    Store.create(tmp_path / "e.db")
    with pytest.raises(DatabaseError, match="holds no index"):
        Store.open(tmp_path / "e.db").current_model_id()


# The tables as the first docret (schema version 1) wrote them, written out by hand so that a
# later edit of the migrations cannot change what this test starts from.
SCHEMA_V1 = """
create table _sqlite_migrations (
    id integer primary key, migration_set text, name text, applied_at text);
create unique index idx__sqlite_migrations_migration_set_name
    on _sqlite_migrations (migration_set, name);
insert into _sqlite_migrations (migration_set, name, applied_at)
    values ('docret', 'm001_initial', '2026-01-01 00:00:00+00:00');
create table meta (key text primary key, value text);
create table documents (
    id text primary key, path text, title text, text text, labels text, split text, hash text);
create table vectors (id text primary key, indices blob, weights blob);
create table vocabulary (term_id integer primary key, term text, df integer, idf real);
create table surface_forms (word text primary key, term_id integer);
create table models (
    id integer primary key, created text, config text, train_config text, analyzer text,
    history text);
create table weights (
    model_id integer references models(id), name text, shape text, data blob,
    primary key (model_id, name));
create table codes (id text primary key, model_id integer references models(id), code blob);
"""


def test_opening_a_version_1_database_migrates_it(tmp_path, built_db):
    old = tmp_path / "v1.db"
    conn = sqlite3.connect(old)
    conn.executescript(SCHEMA_V1)
    # The rows of a current index, minus what later schemas added (bits, document sources).
    conn.execute("attach database ? as src", [str(built_db)])
    conn.executescript(
        """
        insert into meta select key, value from src.meta
            where key in ('application', 'source', 'built', 'model_id');
        insert into meta values ('schema_version', '1');
        insert into documents select id, path, title, text, labels, split, hash
            from src.documents order by rowid;
        insert into vectors select id, indices, weights from src.vectors;
        insert into vocabulary select term_id, term, df, idf from src.vocabulary;
        insert into surface_forms select word, term_id from src.surface_forms;
        insert into models select id, created, config, train_config, analyzer, history
            from src.models;
        insert into weights select model_id, name, shape, data from src.weights;
        insert into codes select id, model_id, code from src.codes;
        """
    )
    conn.commit()
    conn.close()

    from docret.index import Index

    with Index.open(old) as index:
        db = index.store.db
        assert "bits" in db["codes"].columns_dict
        assert "source" in db["documents"].columns_dict
        assert [m.name for m in migrations.applied(db)] == [
            "m001_initial",
            "m002_binary_codes",
            "m003_document_source",
            "m004_lexicon",
            "m005_document_metadata",
            "m006_ranking_form",
            "m007_term_counts",
            "m008_settings",
        ]
        assert index.store.meta_int("schema_version") == SCHEMA_VERSION
        assert index.bits is None and len(index.ids) == 80
        assert all(h.id.startswith("space/") for h in index.query("orbit rocket launch", k=5))
        # the migration stored the settings from the model's config where none were recorded
        settings = index.settings()
        assert settings["hidden"] == (64, 32) and settings["code_size"] == 8
        assert settings["binary"] is False


def test_what_a_map_shows_and_the_mark_of_others_commits(tmp_path):
    store = Store.create(tmp_path / "x.db")
    data = _data()
    data.documents[1] = Document(id="a1", text="t", title="", labels=())
    store.replace_index(data)
    assert store.titles_and_first_labels() == {
        "a0": ("T0", "x"),
        "a1": ("", None),
        "a2": ("T2", "x"),
    }
    mark = store.commit_mark()
    store.delete_documents(["a2"])  # its own commit: the mark stays
    assert store.commit_mark() == mark
    with Store.open(tmp_path / "x.db") as other:
        other.delete_documents(["a0"])
    assert store.commit_mark() != mark


def test_check_names_documents_without_term_counts_and_a_missing_ranking(tiny_db, tmp_path):
    db = tmp_path / "copy.db"
    db.write_bytes(tiny_db.read_bytes())
    with Store.open(db) as store:
        assert store.check().ok
        with store.transaction():
            store.db.execute("delete from term_counts where rowid = 1")
            store.db.execute("update models set ranking = null")
        problems = store.check().problems
        assert "the model's ranking is missing" in problems
        assert "1 documents have no term counts" in problems


def test_the_storage_layer_never_imports_torch(tmp_path):
    """Not even to upgrade a file of the first schema, which counts its terms (NLTK's stemmer,
    which stems the words no surface form records, brings scikit-learn along by itself)."""
    import subprocess
    import sys
    from pathlib import Path

    old = tmp_path / "v1.db"
    old.write_bytes((Path(__file__).parent / "data" / "schemas" / "v1-short.db").read_bytes())
    code = (
        "import sys; from docret.store import Store; "
        f"Store.open({str(old)!r}).close(); "
        "print(sorted(m for m in ('torch', 'docret.model', 'docret.encoder') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    with Store.open(old) as store:
        assert store.meta_int("schema_version") == SCHEMA_VERSION

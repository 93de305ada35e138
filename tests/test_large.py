"""The large-corpus path of a build: one chunked analysis pass, documents spooled to disk,
and fusion weights chosen on a sample. Each part must give what the in-memory path gives."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from docret import lexicon, spool
from docret.corpus import Document, read_documents
from docret.encoder import Encoder
from docret.errors import CorpusError, TrainingError
from docret.index import Index
from docret.lexicon import LexicalIndex, count_corpus, count_terms
from docret.rank import calibrate as fusion
from docret.spool import SpooledDocuments, labels_of, texts_of
from docret.store import CsrRows, Store
from docret.text import Analyzer, count_vectorizer, english_stop_words, select_vocabulary

from .conftest import FAST


def _texts(n: int = 120, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = ["".join(rng.choice("bcdfghklmnprstvz") for _ in range(5)) for _ in range(300)]
    common = ["alpha", "beta", "gamma", "delta"]
    return [
        " ".join(
            rng.choice(common) if rng.random() < 0.3 else rng.choice(words[: rng.randint(5, 300)])
            for _ in range(rng.randint(3, 60))
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize(
    ("vocab_size", "min_df", "max_df"),
    [(10_000, 2, 0.5), (50, 1, 1.0), (120, 0.02, 0.9), (30, 3, 40), (7, 1, 1.0)],
)
def test_vocabulary_is_the_one_count_vectorizer_learns(vocab_size, min_df, max_df):
    # vocab_size 7 and 30 cut through many equal totals: the tie order must match too
    texts = _texts()
    analyzer = Analyzer(stop_words=english_stop_words())
    ref = count_vectorizer(analyzer, vocab_size=vocab_size, min_df=min_df, max_df=max_df)
    expected = ref.fit_transform(texts).tocsr()
    terms = count_corpus(texts, analyzer)
    vocabulary, counts = select_vocabulary(
        terms.terms,
        terms.indptr,
        terms.indices,
        terms.counts,
        vocab_size=vocab_size,
        min_df=min_df,
        max_df=max_df,
    )
    assert vocabulary == sorted(ref.vocabulary_, key=ref.vocabulary_.get)
    assert counts.dtype == expected.dtype == np.float32
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(counts, part), getattr(expected, part))


@pytest.mark.parametrize(
    ("min_df", "max_df", "message"),
    [
        (5, 2, "max_df corresponds to < documents than min_df"),
        (500, 1000, "no terms remain"),
        (0, 1.0, "min_df must be"),
        (1, 1.5, "max_df must be"),
    ],
)
def test_vocabulary_bounds_that_leave_nothing_say_so(min_df, max_df, message):
    terms = count_corpus(_texts(20), Analyzer())
    with pytest.raises(ValueError, match=message):
        select_vocabulary(
            terms.terms,
            terms.indptr,
            terms.indices,
            terms.counts,
            vocab_size=100,
            min_df=min_df,
            max_df=max_df,
        )


def test_only_stop_words_is_a_clear_training_error():
    with pytest.raises(TrainingError, match="No vocabulary.*only contain stop words"):
        Encoder(**FAST).fit_vocabulary(["the and of it"] * 12)


def test_chunked_counting_equals_counting_at_once(monkeypatch):
    texts = _texts(50)
    analyzer = Analyzer()
    lexicon_once: dict[str, int] = {}
    once = count_terms(map(analyzer, texts), lexicon_once)
    monkeypatch.setattr(lexicon, "COUNT_CHUNK", 7)
    done = []
    chunked = count_corpus(texts, analyzer, done.append)
    assert chunked.terms == list(lexicon_once)
    for a, b in zip(once, (chunked.indptr, chunked.indices, chunked.counts), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert done == [7, 14, 21, 28, 35, 42, 49, 50]


def test_term_counts_take_and_lengths():
    terms = count_corpus(["aa bb cc bb", "", "dd ee dd dd", "cc"], Analyzer(stemmer="none"))
    np.testing.assert_array_equal(terms.lengths(), [4, 0, 4, 1])
    part = terms.take(np.array([2, 1, 0]))
    assert part.n_documents == 3
    rows = list(LexicalIndex.from_counts(part).rows(["x", "y", "z"]))
    assert [(i, dict(zip(t.tolist(), c.tolist(), strict=True))) for i, t, c in rows] == [
        ("x", {terms.terms.index("dd"): 3.0, terms.terms.index("ee"): 1.0}),
        ("y", {}),
        ("z", {terms.terms.index(t): n for t, n in (("aa", 1.0), ("bb", 2.0), ("cc", 1.0))}),
    ]


def _document(i: int) -> Document:
    return Document(
        f"d{i}",
        f"text {i} ünïcode",
        title=f"T{i}",
        labels=("a", "b") if i % 2 else (),
        path=f"p/{i}.txt",
        split="train" if i % 3 else None,
        metadata={"type": "txt", "n": i},
    )


def test_spooled_documents_move_to_disk_and_read_back_as_they_were(tmp_path):
    docs = [_document(i) for i in range(25)]
    seq = SpooledDocuments(limit=100, directory=tmp_path)
    for d in docs:
        seq.append(d)
    assert seq.spooled
    path = Path(seq._db.execute("pragma database_list").fetchone()[2])
    assert path.exists() and path.parent == tmp_path
    assert len(seq) == 25
    assert list(seq) == docs
    assert seq[0] == docs[0] and seq[-1] == docs[-1] and seq[3:6] == docs[3:6]
    assert seq[np.int64(4)] == docs[4]
    with pytest.raises(IndexError):
        seq[25]
    assert list(texts_of(seq)) == [d.text for d in docs]
    assert texts_of(seq)[7] == docs[7].text
    assert list(labels_of(seq)) == [d.labels for d in docs] and labels_of(seq)[3] == docs[3].labels
    seq.close()
    assert not path.exists() and len(seq) == 0


def test_a_spool_that_cannot_be_written_is_a_clear_error(tmp_path):
    seq = SpooledDocuments(limit=10, directory=tmp_path)
    seq.append(_document(0))
    assert list(tmp_path.glob(".docret-spool-*"))
    seq._db.close()  # stands for a disk that fills up: the next write fails
    with pytest.raises(CorpusError, match="temporary file .*free disk space"):
        for i in range(1, 1001):
            seq.append(_document(i))
    assert not list(tmp_path.glob(".docret-spool-*"))


def test_a_spool_deletes_the_files_that_killed_builds_left_and_no_other(tmp_path):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)  # a process that has ended
    host = spool._host()
    left = tmp_path / f".docret-spool-{host}-{dead}-abc.db"
    running = tmp_path / f".docret-spool-{host}-{os.getpid()}-def.db"
    elsewhere = tmp_path / f".docret-spool-otherhost-{dead}-ghi.db"
    unknown = tmp_path / ".docret-spool-xyz.db"
    for path in (left, running, elsewhere, unknown):
        path.write_text("x")
    seq = SpooledDocuments(limit=10, directory=tmp_path)
    seq.append(_document(0))
    assert seq.spooled
    assert not left.exists()
    assert running.exists() and elsewhere.exists() and unknown.exists()
    seq.close()
    assert spool.remove_stale(tmp_path) == []


def test_few_documents_stay_a_list(corpus_dir):
    read = read_documents(corpus_dir)
    assert type(read.documents) is list


def test_csr_rows_are_each_rows_parts():
    m = sp.csr_matrix(np.array([[0, 1.5, 0], [0, 0, 0], [2.0, 0, 3.0]], dtype=np.float32))
    rows = CsrRows(m)
    assert len(rows) == 3
    got = [(i.tolist(), v.tolist()) for i, v in rows]
    assert got == [([1], [1.5]), ([], []), ([0, 2], [2.0, 3.0])]
    assert rows[-1][0].tolist() == [0, 2] and rows[1][0].tolist() == []
    with pytest.raises(IndexError):
        rows[3]


def _stored(db: Path) -> dict[str, list]:
    with sqlite3.connect(db) as c:
        return {
            table: c.execute(f"select * from {table} order by rowid").fetchall()
            for table in ("codes", "vectors", "term_counts", "lexicon", "vocabulary")
        } | {
            "documents": c.execute(
                "select id, title, text, labels, source from documents order by rowid"
            ).fetchall(),
            "ranking": c.execute("select ranking from models").fetchall(),
        }


def test_a_build_from_spooled_documents_writes_what_one_from_memory_does(
    corpus_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(fusion, "CALIBRATION_DOCS", 50)  # the weights from a sample, too
    Index.build(corpus_dir, tmp_path / "memory.db", **FAST).close()
    monkeypatch.setattr(spool, "SPOOL_CHARS", 1000)
    assert read_documents(corpus_dir).documents.spooled
    Index.build(corpus_dir, tmp_path / "spooled.db", **FAST).close()
    assert _stored(tmp_path / "spooled.db") == _stored(tmp_path / "memory.db")
    with Index.open(tmp_path / "spooled.db") as index:  # an add reads through the spool too
        report = index.add(corpus_dir)
    assert report.unchanged == 80 and not report.added
    assert not list(tmp_path.glob(".docret-spool-*")), "the temporary files are deleted"


def test_a_large_corpus_chooses_its_weights_on_a_sample(corpus_dir, monkeypatch):
    docs = read_documents(corpus_dir).documents
    texts = [d.text + " " + d.text for d in docs]  # long enough for pseudo-queries
    encoder = Encoder(**FAST)
    terms = encoder.count_terms(texts)
    counts = encoder.fit_vocabulary(terms)
    encoder.fit_model(counts)
    codes = encoder.encode_counts(counts)
    monkeypatch.setattr(fusion, "CALIBRATION_DOCS", 50)
    lexical, choice = fusion.choose_for_index(texts, encoder, codes, 0, None, terms)
    assert len(lexical.terms) == len(terms.terms) and lexical.counts.n_documents == len(texts)
    rows = np.sort(np.random.default_rng(0).choice(len(texts), 50, replace=False))
    sample = [texts[i] for i in rows]
    monkeypatch.setattr(fusion, "CALIBRATION_DOCS", 10_000)
    _, expected = fusion.choose_for_index(sample, encoder, codes[rows], 0)
    assert choice.queries == expected.queries <= 50
    assert choice.mrr == expected.mrr and choice.mrr


def test_adding_reads_the_lexicon_alone(built_db, tmp_path, monkeypatch):
    db = tmp_path / "copy.db"
    shutil.copy(built_db, db)

    def refused(self, *args):
        raise AssertionError("adding read every document's term counts")

    with Index.open(db) as index:
        monkeypatch.setattr(Store, "load_term_counts", refused)
        index.add_texts([{"id": "new", "text": "quasar orbit quasar"}])
        monkeypatch.undo()
        assert index.query("quasar", k=1, method="bm25")[0].id == "new"


def test_a_retrain_from_spooled_documents_writes_what_one_from_memory_does(
    built_db, tmp_path, monkeypatch
):
    for name in ("memory", "spooled"):
        shutil.copy(built_db, tmp_path / f"{name}.db")
    with Index.open(tmp_path / "memory.db") as index:
        index.retrain(seed=3)
    monkeypatch.setattr(spool, "SPOOL_CHARS", 1000)
    with Index.open(tmp_path / "spooled.db") as index:
        index.retrain(seed=3)
    assert _stored(tmp_path / "spooled.db") == _stored(tmp_path / "memory.db")

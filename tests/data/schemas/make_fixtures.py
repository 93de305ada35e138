"""Write one fixture of tests/test_migrations.py: an index as an earlier docret wrote it, and
the answers that docret gave to a few queries.

Run with the docret to record on the path (a checkout of the commit named in the fixture's
JSON), from anywhere::

    PYTHONPATH=CHECKOUT python tests/data/schemas/make_fixtures.py write NAME OUT_FOLDER
    PYTHONPATH=CHECKOUT python tests/data/schemas/make_fixtures.py answer NAME OUT_FOLDER

``write`` builds ``NAME.db`` from a corpus this script writes itself (seeded), with tiny model
settings, folds its journal into the file with small pages, and records in ``NAME.json`` the
answers of that same docret (``written``) for every ranking method it had. ``answer`` records,
on a copy, the answers of the docret on the path (``before``): the last one before schema 6,
which still read old files through compatibility branches; with them, the settings a retrain
started from and the ranking that docret read from the file. The script only uses what every
docret from the first one on offers (``Index.build``, ``Index.open``, ``Index.query``).
"""

from __future__ import annotations

import inspect
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

TOPICS = {
    "space": "orbit rocket launch planet star comet galaxy telescope astronaut moon lunar "
    "satellite gravity nebula crater solar eclipse module capsule booster",
    "sailing": "anchor sail harbour wind hull keel mast rudder tide crew deck boat yacht "
    "regatta mooring compass knot bow stern ballast",
    "cooking": "oven flour butter garlic onion simmer roast recipe sauce pepper salt knife "
    "dough bake kitchen broth spice herb skillet pastry",
    "music": "guitar chord melody rhythm drum piano violin concert tempo scale harmony "
    "chorus singer bass orchestra note lyric album tune stage",
}
FILLER_WORDS = "the a of and to in with on for from by at over under after before while"
FILLER = FILLER_WORDS.split()
QUERIES = [
    "orbit rocket launch",
    "anchor in the harbour wind",
    "roast garlic sauce recipe with butter and fresh herbs",
]
# Long documents give long pseudo-queries, which choose a pair of weights of their own.
LONG_QUERY = " ".join(TOPICS["music"].split()[:16] + TOPICS["cooking"].split()[:16])
# The model as small as trains: the file stays tens of kilobytes.
OPTIONS = {
    "hidden": (16,),
    "code_size": 4,
    "epochs": 3,
    "batch_size": 8,
    "vocab_size": 200,
    "min_df": 1,
    "negatives": 50,
    "pretrain": False,
    "lsa_dims": 4,
    "seed": 0,
    "device": "cpu",
    "threads": 1,
}
# name -> (words per document, documents per topic, binary bits or 0)
FIXTURES = {
    "short": (48, 8, 0),
    "binary": (48, 8, 16),
    "long": (190, 6, 0),
}


def kind_of(name: str) -> str:
    """The corpus kind of a fixture named ``vN-KIND`` or ``vN-KIND-...``."""
    return name.split("-")[1]


def write_corpus(root: Path, words: int, per_topic: int, seed: int = 0) -> Path:
    """``<topic>/<n>.txt`` files of seeded sentences of the topic's words and fillers."""
    rng = random.Random(seed)
    for topic, vocabulary in TOPICS.items():
        own = vocabulary.split()
        others = [w for t, v in TOPICS.items() if t != topic for w in v.split()]
        folder = root / topic
        folder.mkdir(parents=True)
        for i in range(per_topic):
            body = [
                rng.choice(own)
                if rng.random() < 0.6
                else rng.choice(others if rng.random() < 0.2 else FILLER)
                for _ in range(words)
            ]
            title = f"{topic.title()} notes {i}"
            (folder / f"{i:02d}.txt").write_text(f"{title}\n\n{' '.join(body)}.\n")
    return root


def answers(db: Path, binary: bool) -> dict[str, list[list]]:
    """The top 5 (id, score) of every query by every ranking method of the docret on the path."""
    from docret.index import Index

    query = Index.query
    params = inspect.signature(query).parameters
    try:
        from docret.ranking import METHODS

        methods = {m: {"method": m} for m in METHODS}
    except ImportError:
        methods = {"default": {}}
        if "hybrid" in params:
            methods["hybrid"] = {"hybrid": True}
    if binary and "rerank" in params:
        methods["rerank"] = {"rerank": 10}
    queries = QUERIES + [LONG_QUERY]
    out: dict[str, list[list]] = {}
    with _opened(Index, db) as index:
        for name, options in methods.items():
            if name == "hybrid" and binary:
                continue  # float codes only
            try:
                out[name] = [
                    [[h.id, float(h.score)] for h in query(index, q, 5, **options)] for q in queries
                ]
            except Exception as e:  # a method the index does not offer
                print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr)
    return out


class _opened:
    """``Index.open`` as a context, closing the index whether or not it is one."""

    def __init__(self, cls, db: Path) -> None:
        self.index = cls.open(db)

    def __enter__(self):
        return self.index

    def __exit__(self, *exc) -> None:
        close = getattr(self.index, "close", None) or self.index.store.close
        close()


def compact(db: Path) -> None:
    """Fold the journal into the file and rewrite it with 1 KiB pages (rowids kept)."""
    conn = sqlite3.connect(db)
    before = conn.execute("select rowid, id from documents order by rowid").fetchall()
    conn.execute("pragma journal_mode = delete")
    conn.execute("pragma page_size = 1024")
    conn.execute("vacuum")
    after = conn.execute("select rowid, id from documents order by rowid").fetchall()
    conn.close()
    assert before == after, "vacuum renumbered the documents"


def commit() -> str:
    """The commit of the docret on the path."""
    import docret

    folder = Path(docret.__file__).resolve().parents[1]
    return subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()


def write(name: str, out: Path) -> None:
    from docret.encoder import Encoder
    from docret.index import Index

    words, per_topic, bits = FIXTURES[kind_of(name)]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(Path(tmp) / "corpus", words, per_topic)
        db = Path(tmp) / f"{name}.db"
        accepted = set(inspect.signature(Encoder).parameters)
        options = {k: v for k, v in OPTIONS.items() if k in accepted}
        if bits:
            options.update(binary=True, code_size=bits)
        built = Index.build(corpus, db, **options)
        (getattr(built, "close", None) or built.store.close)()
        compact(db)
        record = {"commit": commit(), "options": options, "queries": QUERIES + [LONG_QUERY]}
        record["written"] = answers(db, bool(bits))
        compact(db)  # opening it may have switched the journal back to a write-ahead log
        shutil.copy(db, out / f"{name}.db")
    (out / f"{name}.json").write_text(json.dumps(record) + "\n")


def answer(name: str, out: Path) -> None:
    record = json.loads((out / f"{name}.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / f"{name}.db"
        shutil.copy(out / f"{name}.db", db)
        record["before"] = {"commit": commit(), "answers": answers(db, "binary" in name)}
        from docret.index import Index

        with Index.open(db) as index:  # the settings a retrain starts from, the ranking chosen
            record["before"]["settings"] = index.settings()
            record["before"]["ranking"] = index.info()["ranking"]
    (out / f"{name}.json").write_text(json.dumps(record) + "\n")


if __name__ == "__main__":
    action, fixture, folder = sys.argv[1:4]
    {"write": write, "answer": answer}[action](fixture, Path(folder))

"""Shared fixtures: a small synthetic corpus the tests write themselves, and a built index."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from docret.defaults import DEFAULTS

# Four topics with disjoint vocabularies plus filler words shared by all: a model that learns
# anything at all must put documents of one topic together.
TOPICS = {
    "space": "orbit rocket launch satellite astronaut planet comet galaxy telescope lunar "
    "shuttle booster payload nebula asteroid cosmos gravity module capsule thruster",
    "cooking": "recipe oven flour butter garlic simmer onion pepper saucepan roast "
    "dough bake knead spice skillet broth whisk batter vinegar marinade",
    "sailing": "harbor sail anchor hull mast keel tide breeze rudder dinghy "
    "mooring regatta jib starboard port ashore buoy helm voyage schooner",
    "music": "guitar melody chord rhythm drummer concert orchestra violin album tempo "
    "harmony piano singer chorus lyric bass jazz symphony rehearsal composer",
}
FILLER = "today really people report great small large second thing week good time year"
PER_TOPIC = 20

# Small and quick, but the same code path as the defaults: every setting, these changed.
FAST = replace(
    DEFAULTS,
    hidden=(64, 32),
    code_size=8,
    epochs=80,
    batch_size=16,
    lr=3e-3,
    patience=80,
    vocab_size=500,
    device="cpu",
).as_dict()


def cli_args(settings: dict) -> list[str]:
    """The command-line options that give ``settings`` (those that differ from the defaults)."""
    args = []
    for name, value in settings.items():
        if value == getattr(DEFAULTS, name):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        else:
            args += [flag, ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return args


def make_text(rng: random.Random, topic: str, n_words: int = 40) -> str:
    """One synthetic document of ``topic``: a title line, then topic and filler words."""
    words = TOPICS[topic].split()
    filler = FILLER.split()
    body = [
        rng.choice(words) if rng.random() < 0.75 else rng.choice(filler) for _ in range(n_words)
    ]
    return f"{topic.title()} notes {rng.randint(1, 999)}\n\n" + " ".join(body) + ".\n"


def write_corpus(root: Path, per_topic: int = PER_TOPIC, seed: int = 0) -> Path:
    """Write ``<topic>/<n>.txt`` files under ``root``; return ``root``."""
    rng = random.Random(seed)
    for topic in TOPICS:
        folder = root / topic
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_topic):
            (folder / f"{i:03d}.txt").write_text(make_text(rng, topic), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only synthetic corpus of four topics (do not modify it in a test)."""
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def built_db(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """A database built once from ``corpus_dir`` with the FAST settings (treat as read-only)."""
    from docret.index import Index

    db = tmp_path_factory.mktemp("db") / "test.db"
    Index.build(corpus_dir, db, **FAST).close()
    return db


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny index of 20 documents with the smallest training that runs, its write-ahead log
    folded into the file so that copying the file copies the index (storage tests; read-only)."""
    import sqlite3

    from docret.index import Index
    from tests.fault_helpers import TINY_OPTIONS

    root = tmp_path_factory.mktemp("tiny")
    db = root / "tiny.db"
    Index.build(write_corpus(root / "corpus", per_topic=5), db, **TINY_OPTIONS).close()
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served index of a web test module (tests/serve_helpers.py's small index)."""
    from tests.serve_helpers import build_index

    return build_index(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def client(db: Path):
    """A test client of the read-only app over :func:`db`, addressed as this machine."""
    from fastapi.testclient import TestClient

    from docret.serve import create_app
    from tests.serve_helpers import LOCAL

    with TestClient(create_app(db), base_url=LOCAL) as c:
        yield c

"""The schema of a docret file: append-only migrations, each run once per file, in order.

A migration that changes what a column holds rewrites the rows already there
(:mod:`docret.store.backfill`), so that the readers only ever see the current form. A file of
an older docret is upgraded when it is first opened where it can be written.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from docret.store import backfill

APPLICATION = "docret"
SCHEMA_VERSION = 8  # bump together with a new migration

migrations = Migrations("docret")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Tables of the first schema."""
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["documents"].create(
        {
            "id": str,
            "path": str,
            "title": str,
            "text": str,
            "labels": str,  # JSON list
            "split": str,
            "hash": str,
        },
        pk="id",
    )
    db["vectors"].create({"id": str, "indices": bytes, "weights": bytes}, pk="id")
    db["vocabulary"].create({"term_id": int, "term": str, "df": int, "idf": float}, pk="term_id")
    # Words seen at index time and the term each stems to: queries skip the stemmer for them.
    db["surface_forms"].create({"word": str, "term_id": int}, pk="word")
    db["models"].create(
        {
            "id": int,
            "created": str,
            "config": str,  # AutoencoderConfig as JSON
            "train_config": str,
            "analyzer": str,
            "history": str,
        },
        pk="id",
    )
    db["weights"].create(
        {"model_id": int, "name": str, "shape": str, "data": bytes},
        pk=("model_id", "name"),
        foreign_keys=[("model_id", "models", "id")],
    )
    db["codes"].create(
        {"id": str, "model_id": int, "code": bytes},
        pk="id",
        foreign_keys=[("model_id", "models", "id")],
    )


@migrations()
def m002_binary_codes(db: sqlite_utils.Database) -> None:
    """Packed bits of binary (semantic hashing) codes, beside their float codes."""
    db["codes"].add_column("bits", bytes)


@migrations()
def m003_document_source(db: sqlite_utils.Database) -> None:
    """The path each document was read from, so re-indexing a folder touches only its own."""
    db["documents"].add_column("source", str)


@migrations()
def m004_lexicon(db: sqlite_utils.Database) -> None:
    """BM25's inputs: every stem of the corpus (not only the model's vocabulary) and each
    document's term counts over them; and the ranking chosen at index time, per model."""
    db["lexicon"].create({"term_id": int, "term": str}, pk="term_id")
    db["term_counts"].create({"id": str, "indices": bytes, "counts": bytes}, pk="id")
    db["models"].add_column("ranking", str)  # JSON: the default ranking's weights


@migrations()
def m005_document_metadata(db: sqlite_utils.Database) -> None:
    """What the format says about each document (type, author, date, ...) as a JSON object."""
    db["documents"].add_column("metadata", str)


@migrations()
def m006_ranking_form(db: sqlite_utils.Database) -> None:
    """Every model's ranking in one form: the codes' weight keyed "codes" rather than
    "weight", and what older docrets left out of it filled with what they ranked by
    (:func:`~docret.store.backfill.canonical_ranking`)."""
    backfill.rankings(db)


@migrations()
def m007_term_counts(db: sqlite_utils.Database) -> None:
    """The lexicon and term counts of an index built before they were stored, counted from
    its texts as its readers counted them in memory until now."""
    backfill.term_counts(db)


@migrations()
def m008_settings(db: sqlite_utils.Database) -> None:
    """The current model's settings in full, each one an older docret did not record as its
    retrain assumed it."""
    backfill.settings(db)

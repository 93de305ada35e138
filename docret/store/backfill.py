"""What the migrations from schema 6 on compute from old rows.

Each rewrites what an older docret stored into the form the current one writes, filling what
it left out with what docret's readers assumed for it until then, so that nothing read later
asks how old a file is. Like the migrations, what is written here is frozen: a later change of
docret's defaults or of the ranking's stored form is a migration of its own, not an edit here.
A value that does not parse is left as it is, for the readers (and ``docret check``) to report
the file damaged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlite_utils

from docret.store.rows import to_blob

# bm25s' k1 and b: what BM25 ranked with before they were chosen per corpus.
BM25_ASSUMED = {"k1": 1.5, "b": 0.75}
# The settings an index whose model did not record them all was retrained with: docret's
# defaults when schema 8 came (docret.defaults), each overridden by what the model's config,
# training config and analyzer record, and the vocabulary's cap, which no model records, 10,000.
SETTINGS_ASSUMED: dict[str, Any] = {
    "vocab_size": 10_000,
    "min_df": 2,
    "max_df": 0.5,
    "stemmer": "porter",
    "hidden": [500, 250, 125],
    "code_size": 32,
    "activation": "tanh",
    "noise": 0.7,
    "code_l2": 0.0,
    "binary": False,
    "code_noise": 4.0,
    "epochs": 50,
    "batch_size": 64,
    "lr": 0.002,
    "weight_decay": 0.0,
    "validation_fraction": 0.1,
    "patience": 5,
    "negatives": 500,
    "pretrain": True,
    "query_fraction": 0.3,
    "first_layer": "svd-softmax",
    "lsa_dims": 128,
    "seed": 0,
    "device": "auto",
    "threads": 0,
}
_UNREADABLE = (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError)


def rankings(db: sqlite_utils.Database) -> None:
    """Every model's ranking in the form :func:`canonical_ranking` gives."""
    for model_id, text in db.execute("select id, ranking from models").fetchall():
        try:
            ranking = canonical_ranking(json.loads(text) if text else None)
        except _UNREADABLE:
            continue
        db.execute("update models set ranking = ? where id = ?", [json.dumps(ranking), model_id])


def canonical_ranking(old: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored ranking (None: none was stored) as docret stores one from schema 6 on.

    The codes' weight is keyed "codes" (formerly "weight"), at the top and for long queries.
    What older docrets left out is filled with what they ranked by: no ranking at all (an
    index built before BM25 was) is BM25 alone; no "lsa", an LSA weight of 0 (before LSA was
    fused); pseudo-queries' scores keyed by the codes' weight alone ("0.2"), keyed by the pair
    ("0.2,0.0"); ``by_labels`` (before neighbours answered), ``chosen_by`` "labels" or "known
    items"; no "bm25", bm25s' parameters and no scores of others.
    """
    old = {"weight": 0.0} if old is None else old
    bm25 = old.get("bm25", {})
    out: dict[str, Any] = {
        "codes": float(old["weight"]),
        "lsa": float(old.get("lsa", 0.0)),
        "queries": int(old.get("queries", 0)),
        "mrr": _pairs(old.get("mrr", {})),
        "chosen_by": str(old.get("chosen_by", "labels" if old.get("by_labels") else "known items")),
    }
    topical = _pairs(old.get("topical", {}))
    if topical:
        out["topical"] = topical
    out["bm25"] = {
        "k1": float(bm25.get("k1", BM25_ASSUMED["k1"])),
        "b": float(bm25.get("b", BM25_ASSUMED["b"])),
        "mrr": _pairs(bm25.get("mrr", {})),
    }
    long = old.get("long")
    if long is not None:
        out["long"] = {
            "codes": float(long["weight"]),
            "lsa": float(long["lsa"]),
            "queries": int(long["queries"]),
            "terms": float(long["terms"]),
            "chosen_by": str(long["chosen_by"]),
        }
    return out


def _pairs(scores: Mapping[str, Any]) -> dict[str, float]:
    """Scores keyed "a,b" (a key "a" alone is "a,0.0"), rounded to 4 places."""
    out = {}
    for key, value in scores.items():
        a, _, b = str(key).partition(",")
        out[f"{float(a)},{float(b or 0.0)}"] = round(float(value), 4)
    return out


def term_counts(db: sqlite_utils.Database) -> None:
    """The lexicon and every document's term counts, counted from the stored texts where a
    document of the current model lacks its counts (an index built before BM25's inputs were
    stored), as docret's readers counted them in memory until then: each text analysed by
    the model's analyzer, its known words stemmed as the vocabulary recorded them."""
    from docret.lexicon import count_corpus

    model_id = _current_model(db)
    if model_id is None:
        return
    (missing,) = db.execute(
        "select exists (select 1 from documents d join codes c on c.id = d.id "
        "where c.model_id = ? and not exists (select 1 from term_counts t where t.id = d.id))",
        [model_id],
    ).fetchone()
    analyze = _analyzer(db, model_id) if missing else None
    if analyze is None:
        return
    ids: list[str] = []

    def texts():
        for doc_id, text in db.execute(
            "select d.id, d.text from documents d join codes c on c.id = d.id "
            "where c.model_id = ? order by d.rowid",
            [model_id],
        ):
            ids.append(doc_id)
            yield text or ""

    counts = count_corpus(texts(), analyze)
    db.execute("delete from lexicon")
    db.execute("delete from term_counts")
    db["lexicon"].insert_all(
        ({"term_id": j, "term": t} for j, t in enumerate(counts.terms)), batch_size=5000
    )
    db["term_counts"].insert_all(
        (
            {
                "id": doc_id,
                "indices": to_blob(counts.indices[a:b], "<i4"),
                "counts": to_blob(counts.counts[a:b]),
            }
            for doc_id, a, b in zip(ids, counts.indptr[:-1], counts.indptr[1:], strict=True)
        ),
        batch_size=1000,
    )


def _analyzer(db: sqlite_utils.Database, model_id: int) -> Callable[[str], list[str]] | None:
    """The current model's analyzer as its readers build it (None where it does not parse)."""
    from docret.text import Analyzer

    try:
        (text,) = db.execute("select analyzer from models where id = ?", [model_id]).fetchone()
        terms = [t for (t,) in db.execute("select term from vocabulary order by term_id")]
        known = {w: terms[j] for w, j in db.execute("select word, term_id from surface_forms")}
        return Analyzer.from_dict(json.loads(text), known)
    except _UNREADABLE:
        return None


def settings(db: sqlite_utils.Database) -> None:
    """The current model's settings in full (meta ``settings``), as docret read them until
    schema 8: each left out (every one, before settings were stored; those added later, after)
    taken from the model's config, training config and analyzer where they record it, else
    from :data:`SETTINGS_ASSUMED`."""
    model_id = _current_model(db)
    if model_id is None:
        return
    row = db.execute(
        "select config, train_config, analyzer from models where id = ?", [model_id]
    ).fetchone()
    stored = db.execute("select value from meta where key = 'settings'").fetchone()
    try:
        config, train_config, analyzer = (json.loads(text) for text in row)
        recorded = {
            **config,
            **train_config,
            "stemmer": analyzer.get("stemmer", SETTINGS_ASSUMED["stemmer"]),
            "vocab_size": SETTINGS_ASSUMED["vocab_size"],  # the config holds the size reached
        }
        given = json.loads(stored[0]) if stored and stored[0] else {}
        recorded.update(given)
        known = {k: v for k, v in recorded.items() if k in SETTINGS_ASSUMED}
        known["hidden"] = list(known.get("hidden", SETTINGS_ASSUMED["hidden"]))
    except _UNREADABLE:
        return
    full = {**SETTINGS_ASSUMED, **known}
    if full != given:
        db["meta"].upsert({"key": "settings", "value": json.dumps(full)}, pk="key")


def _current_model(db: sqlite_utils.Database) -> int | None:
    """The current model's id, None where there is none (or it does not parse)."""
    row = db.execute("select value from meta where key = 'model_id'").fetchone()
    try:
        return int(row[0]) if row else None
    except _UNREADABLE:
        return None

"""``docret check``: SQLite's integrity check, then docret's own consistency; and whether a
stored model can rank queries (:func:`model_problems`, also asked by every reader)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from docret.errors import DamagedDatabaseError
from docret.store.base import StoreBase
from docret.store.checked import short, whole
from docret.store.db import is_busy, user_error


@dataclass
class CheckReport:
    """What :meth:`Store.check` found; a sound index has no ``problems``."""

    path: str
    problems: list[str] = field(default_factory=list)
    documents: int = 0
    model_id: int | None = None
    generation: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems


class ConsistencyCheck(StoreBase):
    """:meth:`check`, over what :class:`~docret.store.Store` reads."""

    def check(self) -> CheckReport:
        """SQLite's integrity check, then docret's own consistency: the current model is
        stored whole and fits its vocabulary, every document has a vector, a code of that
        model (of its size) and its term counts, none of them is left without its document,
        and everything a query reads loads: text is UTF-8, numbers and JSON parse, term ids lie
        within the vocabulary and the lexicon, values are finite."""
        report = CheckReport(self.path)
        try:
            with self.snapshot():
                rows = [r[0] for r in self.db.execute("pragma integrity_check(20)").fetchall()]
                if rows != ["ok"]:  # one line each: SQLite's lines may hold several
                    report.problems += [
                        f"SQLite: {line}"
                        for r in rows
                        for line in str(r).splitlines()
                        if line.strip() and line.strip() != "*** in database main ***"
                    ]
                else:
                    report.problems += self._text_problems()
                    if not report.problems:
                        _Consistency(self, report).run()
        except DamagedDatabaseError as e:
            report.problems.append(e.detail)
        except sqlite3.DatabaseError as e:
            if is_busy(e):
                raise user_error(e, self.path) or e from None
            report.problems.append("SQLite: " + " ".join(str(e).split()))
        return report

    def _text_problems(self) -> list[str]:
        """Text values of docret's tables that are not UTF-8 (SQLite stores whatever bytes it
        is given; reading them back fails), one problem per column."""
        problems = []
        for table in self._table_names():
            if table.startswith("sqlite_"):
                continue
            columns = [r[1] for r in self.db.execute(f"pragma table_info([{table}])")]
            for column in columns:
                bad = 0
                for (raw,) in self.db.execute(
                    f"select cast([{column}] as blob) from [{table}] "
                    f"where typeof([{column}]) = 'text'"
                ):
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError:
                        bad += 1
                if bad:
                    problems.append(f"{bad:,} values of {table}.{column} are not UTF-8 text")
        return problems


# The rows every document has one of, named as a problem names them.
_PER_DOCUMENT = {"vectors": ("vector", "vectors"), "codes": ("code", "codes")}
_PER_DOCUMENT["term_counts"] = ("term counts", "term counts")


class _Consistency:
    """One run of docret's own checks on a file SQLite found sound, adding to ``report``."""

    def __init__(self, store: Any, report: CheckReport) -> None:
        self.store, self.report, self.problems = store, report, report.problems

    def count(self, sql: str, *args: Any) -> int:
        return int(self.store.db.execute(sql, args).fetchone()[0])

    def loads(self, read: Callable[[], Any]) -> Any:
        """``read()``, or None with its problem noted where what it reads is damaged."""
        try:
            return read()
        except DamagedDatabaseError as e:
            self.problems.append(e.detail)
            return None

    def run(self) -> None:
        model_id = self.meta()
        if model_id is None:
            return
        if not self.report.documents:
            self.problems.append("the index holds no documents")
        self.documents_json()
        config = self.model(model_id)
        self.rows_per_document(model_id)
        if config is not None:
            self.codes(config)
        vocabulary = self.loads(self.store.load_vocabulary)
        if vocabulary is not None:
            self.loads(lambda: self.store.load_surface_forms(vocabulary[0]))
            self.loads(lambda: self.store.load_vectors(len(vocabulary[0])))
        lexicon = self.loads(self.store.load_lexicon)
        if lexicon is not None:
            self.loads(lambda: self.store.load_term_counts(len(lexicon)))

    def meta(self) -> int | None:
        """The metadata's numbers and settings; the current model's id (None: no index)."""
        store, report = self.store, self.report
        meta = store.meta()
        for key in ("schema_version", "added_tokens", "added_unknown_tokens"):
            self.loads(lambda key=key: store.meta_int(key, meta=meta))
        report.generation = self.loads(lambda: store.meta_int("generation", meta=meta)) or 0
        self.loads(store.load_settings)
        report.documents = self.count("select count(*) from documents")
        if "model_id" not in meta:
            self.problems.append("no index yet (meta has no model_id)")
            return None
        report.model_id = self.loads(lambda: store.meta_int("model_id", meta=meta))
        return report.model_id

    def documents_json(self) -> None:
        """Labels that are JSON lists and metadata that are JSON objects."""
        for column, kind in (("labels", "array"), ("metadata", "object")):
            bad = self.count(
                f"select count(*) from documents where [{column}] is not null and "
                f"([{column}] = '' or not json_valid([{column}]) or "
                f"json_type([{column}]) != '{kind}')"
            )
            if bad:
                self.problems.append(f"{bad:,} documents' {column} are not a JSON {kind}")

    def model(self, model_id: int) -> dict[str, Any] | None:
        """The current model's config if the model is stored whole and fits its vocabulary
        (else None, its problems noted), and its ranking."""
        model = self.loads(self.store.load_model)
        if model is None:
            return None
        (n_terms,) = self.store.db.execute("select count(*) from vocabulary").fetchone()
        found = model_problems(model[0], model[1], n_terms)
        self.problems += found
        if found:
            return None
        if not self.count("select count(*) from weights where model_id = ?", model_id):
            self.problems.append(f"the current model ({model_id}) has no weights")
        self.loads(self.store.load_ranking)
        return model[0]["config"]

    def rows_per_document(self, model_id: int) -> None:
        """A vector, a code and term counts for every document, and none without one."""
        for table, (one, many) in _PER_DOCUMENT.items():
            missing = self.count(
                "select count(*) from documents d where not exists "
                f"(select 1 from [{table}] t where t.id = d.id)"
            )
            left = self.count(
                f"select count(*) from [{table}] t where not exists "
                "(select 1 from documents d where d.id = t.id)"
            )
            if missing:
                self.problems.append(f"{missing:,} documents have no {one}")
            if left:
                self.problems.append(f"{left:,} {many} belong to no document")
        stale = self.count("select count(*) from codes where model_id != ?", model_id)
        if stale:
            self.problems.append(f"{stale:,} codes are of another model than the current one")

    def codes(self, config: Mapping[str, Any]) -> None:
        """Codes as long as the model's code size, that load; bits beside binary ones."""
        loaded = None
        size = int(config["code_size"]) * 4
        wrong = self.count("select count(*) from codes where length(code) != ?", size)
        if wrong:
            self.problems.append(f"{wrong:,} codes are not {size // 4} numbers long")
        elif self.report.documents:
            loaded = self.loads(lambda: self.store.load_codes(config["code_size"]))
        if config.get("binary") and (wrong or loaded is not None):
            words = (int(config["code_size"]) + 63) // 64 * 8
            bad = self.count(
                "select count(*) from codes where bits is null or length(bits) != ?", words
            )
            if bad:
                self.problems.append(f"{bad:,} binary codes lack their bits")


def expected_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of every weight tensor of the autoencoder ``config`` describes (what
    :class:`docret.model.Autoencoder` holds), without importing torch."""
    sizes = [config["vocab_size"], *config["hidden"], config["code_size"]]
    shapes = {"input_weight": (sizes[0], sizes[1]), "input_bias": (sizes[1],)}
    for i in range(1, len(sizes) - 1):
        shapes[f"encoder.{i - 1}.weight"] = (sizes[i + 1], sizes[i])
        shapes[f"encoder.{i - 1}.bias"] = (sizes[i + 1],)
    rev = sizes[::-1]
    for i in range(len(rev) - 1):
        shapes[f"decoder.{i}.weight"] = (rev[i + 1], rev[i])
        shapes[f"decoder.{i}.bias"] = (rev[i + 1],)
    return shapes


def model_problems(
    model: Mapping[str, Any], weights: Mapping[str, np.ndarray], n_terms: int
) -> list[str]:
    """What is wrong with a stored model (its config, analyzer and history as read, its
    weights) for a vocabulary of ``n_terms``: empty when a query can use it."""
    from docret.defaults import ACTIVATIONS
    from docret.text import STEMMERS

    config, analyzer = model["config"], model["analyzer"]
    problems = []
    hidden = config.get("hidden")
    if not (
        whole(config.get("vocab_size"), 1)
        and whole(config.get("code_size"), 1)
        and isinstance(hidden, list)
        and all(whole(h, 1) for h in hidden)
    ):
        problems.append(
            "the model's config has no whole positive vocab_size, hidden and code_size: "
            + short({k: config.get(k) for k in ("vocab_size", "hidden", "code_size")}, 120)
        )
    if config.get("activation") not in ACTIVATIONS:
        problems.append(f"the model's activation {short(config.get('activation'))} is unknown")
    if not isinstance(config.get("binary", False), bool):
        problems.append("the model's config says neither binary true nor false")
    if analyzer.get("stemmer") not in STEMMERS:
        problems.append(f"the model's stemmer {short(analyzer.get('stemmer'))} is unknown")
    stop_words = analyzer.get("stop_words")
    if not isinstance(stop_words, list) or not all(isinstance(w, str) for w in stop_words):
        problems.append("the model's stop words are not a list of words")
    if not all(isinstance(h, dict) for h in model["history"]):
        problems.append("the model's history is not a list of epochs")
    if problems:
        return problems
    if config["vocab_size"] != n_terms:
        problems.append(
            f"the vocabulary has {n_terms:,} terms, the model expects {config['vocab_size']:,}"
        )
    for name, shape in expected_shapes(config).items():
        found = weights.get(name)
        if found is None:
            problems.append(f"the model has no weight {name}")
        elif found.shape != shape:
            problems.append(f"weight {name} has the shape {list(found.shape)}, not {list(shape)}")
    lsa = weights.get("lsa")
    if lsa is not None and (lsa.ndim != 2 or lsa.shape[1] != config["vocab_size"]):
        problems.append(f"the LSA directions have the shape {list(lsa.shape)}")
    for name, w in weights.items():
        if not np.isfinite(w).all():
            problems.append(f"weight {name} holds NaN or infinite numbers")
    return problems

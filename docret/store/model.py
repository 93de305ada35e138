"""The model of an index: its vocabulary, surface forms, config, weights, the settings it was
made with and the default ranking chosen for it; and the build that replaces them all."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from docret.errors import DatabaseError
from docret.progress import Progress
from docret.store.base import StoreBase
from docret.store.checked import parsed, short, terms_problem, weight_tensor
from docret.store.rows import IndexData, now, to_blob
from docret.store.schema import APPLICATION, SCHEMA_VERSION


class ModelStore(StoreBase):
    """The current model and what it reads queries with."""

    def replace_index(self, data: IndexData, progress: Progress | None = None) -> int:
        """Replace the whole index with ``data`` in one transaction; return the new model id.

        ``progress.step("Writing", done, total)`` follows the documents as they are written.
        """
        built = now()
        # Model ids keep counting up across rebuilds, so an id never names two models.
        model_id = self.meta_int("model_id") + 1
        sources = data.document_sources or [data.source] * len(data.documents)
        with self.transaction():
            for table in (
                "codes",
                "weights",
                "models",
                "vectors",
                "documents",
                "surface_forms",
                "vocabulary",
            ):
                self.db.execute(f"delete from [{table}]")
            self.db["vocabulary"].insert_all(
                (
                    {"term_id": j, "term": t, "df": int(data.df[j]), "idf": float(data.idf[j])}
                    for j, t in enumerate(data.vocabulary)
                ),
                batch_size=1000,
            )
            self.db["surface_forms"].insert_all(
                ({"word": w, "term_id": j} for w, j in data.surface_forms.items()),
                batch_size=5000,
            )
            self.db["models"].insert(
                {
                    "id": model_id,
                    "created": built,
                    **{
                        key: json.dumps(dict(getattr(data, key)))
                        for key in ("config", "train_config", "analyzer")
                    },
                    "history": json.dumps(list(data.history)),
                }
            )
            self.db["weights"].insert_all(
                {
                    "model_id": model_id,
                    "name": name,
                    "shape": json.dumps(list(w.shape)),
                    "data": to_blob(w),
                }
                for name, w in data.weights.items()
            )
            self._write_rows(
                data.documents,
                sources,
                data.vectors,
                data.codes,
                data.bits,
                model_id,
                insert=True,
                progress=progress,
            )
            self._set_meta(
                application=APPLICATION,
                schema_version=SCHEMA_VERSION,
                source=data.source,
                built=built,
                model_id=model_id,
                added_unknown_tokens=0,
                added_tokens=0,
                settings=json.dumps(dict(data.settings or {})),
            )
        return model_id

    def current_model_id(self) -> int:
        """Id of the model whose codes the index holds."""
        value = self.meta_int("model_id", -1)
        if value < 0:
            raise DatabaseError(f"{self.path} holds no index yet (build one with 'docret index')")
        return value

    def load_model(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The current model: its settings and history as a dict, and its weights (each as
        long as its shape says; :func:`model_problems` tells whether they fit together)."""
        model_id = self.current_model_id()
        with self._reading():
            row = self.db.execute(
                "select created, config, train_config, analyzer, history from models where id = ?",
                [model_id],
            ).fetchone()
            if row is None:
                raise self.damaged(f"the current model ({model_id}) is missing")
            info = {
                "id": model_id,
                "created": row[0],
                "config": parsed(self, row[1], "the model's config", dict),
                "train_config": parsed(self, row[2], "the model's train_config", dict),
                "analyzer": parsed(self, row[3], "the model's analyzer", dict),
                "history": parsed(self, row[4], "the model's history", list),
            }
            weights = {
                name: weight_tensor(self, name, shape, data)
                for name, shape, data in self.db.execute(
                    "select name, shape, data from weights where model_id = ?", [model_id]
                )
            }
        return info, weights

    def load_vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Terms in id order and their idf weights."""
        terms, idf = [], []
        with self._reading():
            for term, value in self.db.execute("select term, idf from vocabulary order by term_id"):
                terms.append(term)
                idf.append(value)
            problem = terms_problem(self.db, "vocabulary", len(terms))
            if problem is not None:
                raise self.damaged(problem)
        if not terms:
            raise self.damaged("the vocabulary is empty")
        if not set(map(type, terms)) <= {str} or not set(map(type, idf)) <= {float, int}:
            raise self.damaged("terms of the vocabulary are not text or idf weights not numbers")
        weights = np.asarray(idf, dtype=np.float32)
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise self.damaged("the vocabulary's idf weights are not all finite and positive")
        return terms, weights

    def load_surface_forms(self, vocabulary: Sequence[str]) -> dict[str, str]:
        """Known words and the vocabulary term each one stems to."""
        n, out = len(vocabulary), {}
        with self._reading():
            for word, j in self.db.execute("select word, term_id from surface_forms"):
                if type(j) is not int or not 0 <= j < n or not isinstance(word, str):
                    raise self.damaged(
                        f"the word {short(word)} stems to term {short(j)}, not one of the "
                        f"vocabulary's {n:,}"
                    )
                out[word] = vocabulary[j]
        return out

    def load_settings(self) -> dict[str, Any]:
        """The settings the current model was made with, as stored (empty before a build)."""
        return parsed(self, self.meta().get("settings"), "meta settings", dict, {})

    def set_ranking(self, model_id: int, ranking: Mapping[str, Any]) -> None:
        """Store the default ranking chosen for a model (JSON)."""
        self.db["models"].update(model_id, {"ranking": json.dumps(dict(ranking))})

    def load_ranking(self) -> dict[str, Any]:
        """The current model's default ranking as stored (:meth:`set_ranking`)."""
        model_id = self.current_model_id()
        row = self.db.execute("select ranking from models where id = ?", [model_id]).fetchone()
        if row is None:
            raise self.damaged(f"the current model ({model_id}) is missing")
        return parsed(self, row[0], "the model's ranking", dict)

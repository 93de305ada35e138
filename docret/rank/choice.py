"""The default ranking's choice for one index: the weights of the code cosine and the LSA
cosine against BM25 (for short and for long queries), BM25's parameters, and what chose them.
Made at index time by :mod:`docret.rank.calibrate`, stored with the model as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docret.rank.default import query_weights
from docret.rank.lexical import BM25_B, BM25_K1

Pair = tuple[float, float]  # (weight of the code cosine, weight of the LSA cosine)


@dataclass
class FusionChoice:
    """The chosen weights of the code cosine (``codes``) and of the LSA cosine (``lsa``)
    against BM25, and the mean reciprocal rank each pair reached."""

    codes: float
    mrr: dict[Pair, float] = field(default_factory=dict)
    queries: int = 0
    lsa: float = 0.0
    # Each pair's precision at TOPICAL_K of the topical answers (by label, or by neighbours
    # where no label tells topics apart), and what chose the pair: the "known items" rule,
    # "labels" or "neighbours".
    topical: dict[Pair, float] = field(default_factory=dict)
    chosen_by: str = "known items"
    # BM25's parameters, and the mean reciprocal rank each (k1, b) of BM25_GRID reached.
    k1: float = BM25_K1
    b: float = BM25_B
    bm25_mrr: dict[tuple[float, float], float] = field(default_factory=dict)
    # The (codes, LSA) pair of long queries, chosen as the pair above on pseudo-queries of
    # LONG_SPAN_WORDS (None: too few documents that long; queries of any length get the pair
    # above), how many there were, their median number of terms and what chose the pair.
    long: Pair | None = None
    long_queries: int = 0
    long_terms: float = 0.0
    long_chosen_by: str = ""

    def weights_for(self, n_terms: float) -> Pair:
        """The (codes, LSA) weights of a query of ``n_terms`` terms
        (:func:`~docret.rank.default.query_weights`)."""
        short = (self.codes, self.lsa)
        return query_weights(short, self.long or short, n_terms, self.long_terms)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored with the model)."""
        out = {
            "codes": self.codes,
            "lsa": self.lsa,
            "queries": self.queries,
            "mrr": {f"{a},{b}": round(v, 4) for (a, b), v in self.mrr.items()},
        }
        out["chosen_by"] = self.chosen_by
        if self.topical:
            out["topical"] = {f"{a},{b}": round(v, 4) for (a, b), v in self.topical.items()}
        out["bm25"] = {
            "k1": self.k1,
            "b": self.b,
            "mrr": {f"{k1},{b}": round(v, 4) for (k1, b), v in self.bm25_mrr.items()},
        }
        if self.long is not None:
            out["long"] = {
                "codes": self.long[0],
                "lsa": self.long[1],
                "queries": self.long_queries,
                "terms": self.long_terms,
                "chosen_by": self.long_chosen_by,
            }
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionChoice:
        """Inverse of :meth:`to_dict` (what an older docret stored is rewritten into this form
        when its file is opened: :mod:`docret.store.schema`)."""

        def pairs(scores: dict[str, float]) -> dict[Pair, float]:
            out = {}
            for key, v in scores.items():
                a, _, b = str(key).partition(",")
                out[(float(a), float(b))] = float(v)
            return out

        bm25, long = data["bm25"], data.get("long")
        return cls(
            float(data["codes"]),
            pairs(data["mrr"]),
            int(data["queries"]),
            float(data["lsa"]),
            pairs(data.get("topical", {})),
            str(data["chosen_by"]),
            float(bm25["k1"]),
            float(bm25["b"]),
            pairs(bm25["mrr"]),
            None if long is None else (float(long["codes"]), float(long["lsa"])),
            0 if long is None else int(long["queries"]),
            0.0 if long is None else float(long["terms"]),
            "" if long is None else str(long["chosen_by"]),
        )

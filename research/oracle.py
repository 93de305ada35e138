"""The default ranking at every pair of weights, on the IR collections' test queries.

Question: are the weights the corpus' pseudo-queries choose far from the best pair the fusion
could reach on the real queries? It measures MAP, nDCG@10 and P@10 of the default ranking at
every pair of weights, beside the chosen pair, BM25, LSA-128 and tf-idf.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.oracle                       # Cranfield and NPL, D=32, seed 0
    python -m research.oracle --only cranfield --cache ENCODERS   # reuse bench/quality.py's

A diagnostic only, never used to choose a setting: it reads the test queries' judgments, so
nothing it prints may set a default. It says how far the weights the corpus' pseudo-queries
chose are from the best any pair of the fusion reaches on the real queries, and so whether an
aim is a matter of weights (a better rule could reach it) or of the scores being fused (no
rule can).
Every pair (codes a, LSA b) with a + b <= 0.9 in steps of 0.1 is ranked as the product ranks
it (BM25 at the chosen k1 and b, the query-length rule, the feedback); (0, 0) is that BM25
alone.
"""

from __future__ import annotations

import argparse
import platform
from dataclasses import replace
from datetime import date
from pathlib import Path

from bench.quality import SHARED, CachedCodes
from docret.evaluate import Codes, Default, Lexical, evaluate, load_collection
from docret.text import Analyzer, english_stop_words

GRID = [(a / 10, b / 10) for a in range(10) for b in range(10) if a + b <= 9]


class AtPair(Default):
    """The default ranking of a fitted :class:`Default`, at the weights ``pair`` instead of
    the chosen ones (the same BM25 parameters, feedback and query-length rule)."""

    def __init__(self, fitted: Default, pair: tuple[float, float]) -> None:
        self.fitted, self.pair = fitted, pair
        self.name = f"codes {pair[0]}, LSA {pair[1]}"
        self.parts = (fitted,)

    def fit(self, texts) -> AtPair:
        for key in ("codes", "lexical", "with_lsa", "lsa_docs"):
            if hasattr(self.fitted, key):
                setattr(self, key, getattr(self.fitted, key))
        self.choice = replace(self.fitted.choice, weight=self.pair[0], lsa=self.pair[1])
        return self


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=("cranfield", "npl"), help="collections")
    parser.add_argument("--cache", type=Path, help="folder of bench/quality.py's trained encoders")
    args = parser.parse_args()
    names = args.only or ["cranfield", "npl"]
    flags = f" --only {' '.join(args.only)}" if args.only else ""
    flags += f" --cache {args.cache}" if args.cache else ""
    print(f"python -m research.oracle{flags}")
    print(f"{date.today()} on {platform.machine()}, Python {platform.python_version()}\n")
    for name in names:
        collection = load_collection(SHARED / name)
        options = dict(code_size=32, seed=0, device="cpu")
        codes = (
            CachedCodes(args.cache / f"{name}-d32.pkl", **options)
            if args.cache
            else Codes(**options)
        )
        # The pairs need a fitted Default before them, and evaluate's own first row is built
        # inside it: so a second one, which calibrates on the same documents and chooses the
        # same pair (the IR collections carry no labels).
        chosen = Default(codes, Lexical(Analyzer(stop_words=english_stop_words())), 0)
        results = evaluate(
            collection,
            extra_lsa=(128,),
            extra_methods=[chosen, *(AtPair(chosen, pair) for pair in GRID)],
            codes=codes,
            **options,
        )
        rows = {r.method: r.metrics for r in results}
        pairs = {r.method: r.metrics for r in results if r.method.startswith("codes ")}
        fusion = results[0].details["fusion"]
        print(
            f"**{name}** (chosen: codes {fusion['codes']}, LSA {fusion['lsa']}, by "
            f"{fusion['chosen_by']})\n"
        )
        print("| ranking | MAP | nDCG@10 | P@10 |\n|---|---|---|---|")
        best_map = max(pairs, key=lambda p: pairs[p]["MAP"])
        best_ndcg = max(pairs, key=lambda p: pairs[p]["nDCG@10"])
        shown = [
            ("docret default (the chosen pair)", rows["docret default"]),
            (f"best pair by MAP ({best_map})", pairs[best_map]),
            (f"best pair by nDCG@10 ({best_ndcg})", pairs[best_ndcg]),
            *((m, rows[m]) for m in ("BM25", "LSA-128", "tf-idf cosine")),
        ]
        for label, m in shown:
            print(f"| {label} | {m['MAP']:.4f} | {m['nDCG@10']:.4f} | {m['P@10']:.4f} |")
        # The whole grid, MAP / nDCG@10: codes' weight down, LSA's across.
        print("\n| codes \\ LSA | " + " | ".join(f"{b / 10}" for b in range(10)) + " |")
        print("|---" * 11 + "|")
        for a in range(10):
            cells = []
            for b in range(10):
                m = pairs.get(f"codes {a / 10}, LSA {b / 10}")
                cells.append(f"{m['MAP']:.3f} / {m['nDCG@10']:.3f}" if m else "")
            print(f"| {a / 10} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()

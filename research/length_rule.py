"""How should the default ranking's weights move as queries lengthen? A diagnostic on the
shared collections' test queries.

Question: a fixed rule moved every corpus' (codes, LSA) pair toward (0.8, 0.1) for queries of
more than 12 terms, a rule chosen on 20 Newsgroups with whole posts as queries. Does a pair that
each corpus chooses on its own long pseudo-queries
(docret.rank.calibrate.LONG_SPAN_WORDS, the product's
rule) do better on the collections whose queries are long (LISA's paragraphs, whole 20
Newsgroups and BBC News articles) without losing on those whose queries are short?

For each collection, one encoder (trained once, kept with --cache) and the weights its
pseudo-queries choose (docret.evaluate.Default) rank the test queries three ways: with the
corpus' long pair (the product), with the former fixed move, and with the short pair at every
length. BM25 (bm25s) runs beside them. The product's rule was fixed before this ran (its spans
of 25 to 60 words follow LISA's median question of 49 words); it reads test judgments, so
nothing is chosen from it.

    python -m research.length_rule --cache ENCODERS lisa cranfield npl
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np

from bench.quality import SHARED
from docret.evaluate import Bm25, Codes, Default, Lexical, load_collection
from docret.evaluate import _label_judge as label_judge
from docret.evaluate import _qrels_judge as qrels_judge
from docret.metrics import top_rows
from docret.rank.default import SHORT_QUERY_TERMS, fuse_with_feedback
from docret.text import Analyzer, english_stop_words

FILES = {"20newsgroups": "20newsgroups/docs.jsonl.gz", "bbc_news": "bbc_news/docs.jsonl.gz"}


def fixed_move(pair: tuple[float, float], n_terms: float, median_document: float):
    """The former rule: from 12 terms toward codes max(weight, 0.8), LSA 0.1 on a log scale,
    reached at max(24, median document / 4) terms; a pair without codes did not move."""
    weight, lsa = pair
    if weight <= 0 or n_terms <= SHORT_QUERY_TERMS or median_document <= SHORT_QUERY_TERMS:
        return pair
    full = max(2 * SHORT_QUERY_TERMS, median_document / 4)
    t = min(1.0, float(np.log(n_terms / SHORT_QUERY_TERMS) / np.log(full / SHORT_QUERY_TERMS)))
    long = max(weight, 0.8)
    long_lsa = max(0.0, min(0.1, 0.9 - long))
    return weight + t * (long - weight), lsa + t * (long_lsa - lsa)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collections", nargs="+")
    parser.add_argument("--cache", type=Path, help="folder to keep and reuse trained encoders")
    parser.add_argument(
        "--labels-unused", action="store_true", help="choose weights as an unlabelled folder would"
    )
    args = parser.parse_args()
    print("| collection | rule | metrics |\n|---|---|---|")
    for name in args.collections:
        compare(name, args.cache, not args.labels_unused)


def compare(name: str, cache: Path | None, use_labels: bool = True) -> None:
    """Print the rows of one collection (its weights chosen with its labels, if it has any and
    ``use_labels``)."""
    collection = load_collection(SHARED / FILES.get(name, name))
    texts = [d.text for d in collection.documents]
    queries = [q.text for q in collection.queries]
    cached = cache / f"{name}.pkl" if cache else None
    if cached and cached.exists():
        codes = pickle.loads(cached.read_bytes())
    else:
        codes = Codes(seed=0, device="cpu").fit(texts)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps(codes))
    analyzer = Analyzer(stop_words=english_stop_words())
    lexical = Lexical(analyzer).fit(texts)
    labels = [d.labels for d in collection.documents] if use_labels else None
    default = Default(codes, lexical, 0, labels).fit(texts)
    name += "" if use_labels or collection.protocol != "labels" else " (labels unused)"
    choice = default.choice
    labelled = collection.protocol == "labels"
    judge = label_judge(collection) if labelled else qrels_judge(collection)
    depth = min(100 if labelled else 1000, len(texts))
    bm25 = lexical.scores(queries)
    code_queries, lsa_queries = codes.encoder.transform_both(queries)
    lengths = lexical.lengths(queries)
    median_document = lexical.index.median_length

    def run(rule) -> str:
        rows = []
        for i, n in enumerate(lengths):
            a, b = rule(n)
            lsa = (default.lsa_docs, lsa_queries[i])
            rows.append(fuse_with_feedback(bm25[i], (codes.docs, code_queries[i]), a, lsa, b))
        metrics, _ = judge(top_rows(np.stack(rows), depth), False)
        return ", ".join(f"{k} {v:.3f}" for k, v in metrics.items())

    pair = (choice.codes, choice.lsa)
    rules = {
        f"corpus' long pair {choice.long} (product)": choice.weights_for,
        "fixed move to (0.8, 0.1)": lambda n: fixed_move(pair, n, median_document),
        f"short pair {pair} at every length": lambda n: pair,
    }
    for title, rule in rules.items():
        print(f"| {name} | {title} | {run(rule)} |")
    metrics, _ = judge(Bm25(analyzer).fit(texts).search(queries, depth), False)
    print(f"| {name} | BM25 | {', '.join(f'{k} {v:.3f}' for k, v in metrics.items())} |")
    print(
        f"| {name} | (median query {np.median(lengths):.0f} terms; long pair from "
        f"{choice.long_queries} pseudo-queries of median {choice.long_terms:.0f} terms) | |",
        flush=True,
    )


if __name__ == "__main__":
    main()

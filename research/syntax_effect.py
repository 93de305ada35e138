"""What reading the query syntax costs on test collections whose queries were not written in it.

Question: the product reads ``"quoted phrases"``, ``-word`` and ``field:value`` out of a typed
query (:mod:`docret.query_syntax`); a test collection's queries hold quotes and dashes as
punctuation (Gutenberg chapters' printed titles quote a novel's name; Cranfield writes
"-dash"). How much does the product's default ranking change on them, with the syntax read
and with every query as free text? It builds an index of the collection (default settings but
``--epochs``, seed 0) and measures ``Index.query`` both ways against the test judgments: a
diagnostic, never used to choose a setting.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.syntax_effect gutenberg_chapters cranfield --epochs 5
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

import docret.query_syntax as query_syntax
from bench.quality import SHARED
from docret.evaluate import load_collection
from docret.index import Index
from docret.metrics import average_precision, ndcg_at_k

DEPTH = 1000


def measured(index: Index, collection) -> tuple[float, float]:
    """MAP and nDCG@10 of the default ranking over the judged queries."""
    aps, ndcgs = [], []
    for q in collection.queries:
        rel = collection.qrels.get(q.id, {})
        relevant = sum(v > 0 for v in rel.values())
        if not relevant:
            continue
        hits = index.query(q.text, k=DEPTH)
        gains = np.array([[rel.get(h.id, 0) for h in hits] + [0] * (DEPTH - len(hits))])
        aps.append(average_precision(gains > 0, np.array([relevant]))[0])
        ideal = [np.array(sorted(rel.values(), reverse=True))]
        ndcgs.append(ndcg_at_k(gains, ideal, 10)[0])
    return float(np.mean(aps)), float(np.mean(ndcgs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("collections", nargs="+")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    print("| collection | syntax read: MAP / nDCG@10 | free text: MAP / nDCG@10 |\n|---|---|---|")
    for name in args.collections:
        collection = load_collection(SHARED / name)
        work = Path(tempfile.mkdtemp())
        docs = work / "docs.jsonl"
        docs.write_text(
            "".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in collection.documents)
        )
        with Index.build(docs, work / "index.db", epochs=args.epochs, seed=0) as index:
            read = measured(index, collection)
            most, query_syntax.MOST_TYPED_WORDS = query_syntax.MOST_TYPED_WORDS, 0
            try:
                free = measured(index, collection)
            finally:
                query_syntax.MOST_TYPED_WORDS = most
        print(f"| {name} | {read[0]:.4f} / {read[1]:.4f} | {free[0]:.4f} / {free[1]:.4f} |")


if __name__ == "__main__":
    main()

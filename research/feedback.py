"""The default ranking with feedback in the learned spaces, on validation queries.

Question: how many of the first fusion's top documents should feed back into the query's code
and LSA vector, and with what weight (docret.rank.default.FEEDBACK_DOCS, FEEDBACK_WEIGHT)? It
measures the validation metrics of the default ranking at each number of feedback documents
and weight; it reads no test query.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.feedback                         # Cranfield, NPL, 20NG slice
    python -m research.feedback --only cranfield --docs 3 --moved 1

The default ranking (``docret.rank.default.fuse_with_feedback``) fuses BM25 with the code and LSA
cosines, then moves the query's code and LSA vector toward the unit mean of the first
fusion's top documents and fuses again. This script fits the default encoder on each
validation collection of ``research/tune_model.py`` (Cranfield and NPL bodies, the 20
Newsgroups train slice; no test query is read), chooses the fusion weights as an index does,
and prints, for each number of feedback documents and weight of their mean, the validation
metrics: titles' MRR of their own abstract (Cranfield, NPL; known-item search) and the 20
Newsgroups slice's subject lines' P@10 and whole documents' P@10 / P@100 (relevant = same
group; topical search). 0 documents is the ranking without feedback.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

import numpy as np

from docret.encoder import Encoder
from docret.lexicon import LexicalIndex, query_terms
from docret.rank.base import min_max, normalize_rows, top_k
from docret.rank.default import fuse_with_feedback, query_weights
from research.heldout import choose
from research.tune_model import CORPORA, labelled_metrics, load, pseudo_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["cranfield", "npl", "ng20"])
    parser.add_argument("--docs", nargs="+", type=int, default=[0, 2, 3, 5, 7])
    parser.add_argument("--moved", nargs="+", type=float, default=[0.5, 1.0, 1.5, 2.0, 3.0])
    args = parser.parse_args()
    print(f"python -m research.feedback --only {' '.join(args.only)}")
    print(f"{date.today()} on {platform.machine()}, Python {platform.python_version()}\n")
    rows = {}
    for name in args.only:
        start = time.perf_counter()
        data = load(CORPORA, name)
        encoder = Encoder(seed=0)
        terms = encoder.count_terms(data["docs"])
        encoder.fit_model(encoder.fit_vocabulary(terms))
        lexical = LexicalIndex.from_counts(terms)
        spaces = [encoder.transform(data["docs"]), encoder.transform_lsa(data["docs"])]
        choice, lexical = choose(data["docs"], encoder, lexical, spaces)
        pair = (choice.codes, choice.lsa)
        print(f"{name}: weights {pair}, fit and choice {time.perf_counter() - start:.0f} s")
        sets = {"titles": data["queries"]} if "own" in data else {}
        if not sets:
            sets = {"subject lines": data["subjects"], "whole documents": data["queries"]}
        for label, texts in sets.items():
            queries = Queries(texts, encoder, lexical, spaces, pair)
            queries.check()
            for docs in args.docs:
                for moved in args.moved if docs else [0.0]:
                    scores = queries.scores(docs, moved)
                    if "own" in data:
                        value = f"{pseudo_metrics(scores, data['own'])['MRR']:.4f}"
                    else:
                        m = labelled_metrics(scores, data["doc_labels"], data["query_labels"])
                        value = f"{m['P@10']:.4f}"
                        if label == "whole documents":
                            value += f" / {m['P@100']:.4f}"
                    rows.setdefault((docs, moved), {})[f"{name} {label}"] = value
    columns = list(next(iter(rows.values())))
    print("\n| feedback documents | weight of their mean | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for (docs, moved), row in rows.items():
        cells = " | ".join(row[c] for c in columns)
        print(f"| {docs or 'none'} | {moved if docs else '-'} | {cells} |")


class Queries:
    """One validation set's BM25, code and LSA scores (all queries at once), and the default
    ranking's fused scores with ``docs`` feedback documents computed as
    :func:`~docret.rank.default.fuse_with_feedback` computes them one query at a time."""

    def __init__(self, texts, encoder: Encoder, lexical: LexicalIndex, spaces, pair) -> None:
        terms = [query_terms(encoder.analyzer_, q, lexical.lexicon) for q in texts]
        self.bm25 = np.stack([lexical.bm25.scores(*t) for t in terms])
        self.docs = [normalize_rows(s) for s in spaces]
        self.queries = [normalize_rows(q) for q in encoder.transform_both(texts)]
        weights = [query_weights(pair, pair, float(c.sum()), 0.0) for _, c in terms]
        self.weights = np.array(weights, dtype=np.float32)

    def scores(self, docs: int, moved: float) -> np.ndarray:
        a, b = self.weights[:, :1], self.weights[:, 1:]
        lexical = min_max(self.bm25)

        def fused(queries):
            codes, lsa = (q @ d.T for q, d in zip(queries, self.docs, strict=True))
            return (1 - a - b) * lexical + a * min_max(codes) + b * min_max(lsa)

        first = fused(self.queries)
        if not docs:
            return first
        top = np.stack([top_k(row, docs) for row in first])
        pairs = zip(self.queries, self.docs, strict=True)
        return fused([q + moved * normalize_rows(d[top].mean(1)) for q, d in pairs])

    def check(self, n: int = 5) -> None:
        """The batched scores rank as the product's function does (first ``n`` queries)."""
        batched = self.scores(3, 1.0)
        for i in range(min(n, len(self.bm25))):
            a, b = (float(w) for w in self.weights[i])
            codes, lsa = ((d, q[i]) for d, q in zip(self.docs, self.queries, strict=True))
            one = fuse_with_feedback(self.bm25[i], codes, a, lsa, b, 3, 1.0)
            if a + b == 0:  # BM25 as it is, not min-max scaled
                one = min_max(one)
            assert np.allclose(one, batched[i], atol=1e-5), "this script and the product disagree"


if __name__ == "__main__":
    main()

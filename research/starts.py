"""The first layer's start by corpus size, on validation queries only.

Question: does the ``lsa`` start of the first layer (``--first-layer lsa``: the code starts as
LSA's leading directions, every layer above it as the identity) serve a small corpus better
than the default ``svd-softmax`` start? It measures, per slice size and start, the default
ranking, the codes alone, LSA and BM25 on validation queries, and the codes on the index's own
pseudo-queries; it reads no test query.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.starts                                  # every slice below
    python -m research.starts --only ng20 --sizes 1000 2000    # some of them

For each slice this script fits the encoder with both starts (``--seed``, 0 unless given; one
training at a time), chooses BM25's parameters and the fusion weights as an index of an
unlabelled folder does, and prints, on the slice's validation queries (no test split, no
test query):

- ``ng20``: the first N / 20 training documents of each 20 Newsgroups group are indexed,
  the next 150 of each group query them (P@10 of their subject lines; P@10 / P@100 of the
  whole documents; relevant = same group). 8000 means the whole slice of
  ``research/tune_model.py`` (400 per group).
- ``npl``: the first N NPL documents, titles cut off; each title queries the bodies and its
  own body is the answer (MRR). ``cranfield``: all 1,400 bodies (the size is ignored).

Columns: the default ranking, the codes alone, and (once per slice) LSA at the code's
dimension and BM25 alone at the chosen parameters; then each start's codes alone on the
index's own pseudo-queries (``docret.rank.calibrate.pseudo_queries``, MRR), to see whether they
could choose the start per corpus.
"""

from __future__ import annotations

import argparse
import platform
from datetime import date

import numpy as np

from docret import lsa
from docret.encoder import Encoder
from docret.lexicon import LexicalIndex
from docret.rank import calibrate as fusion
from docret.rank.base import normalize_rows
from research.feedback import Queries
from research.tune_model import CORPORA, fit_encoder, labelled_metrics, load, ng20, pseudo_metrics

STARTS = ("svd-softmax", "lsa")


def slice_of(name: str, size: int) -> dict:
    """The validation data of ``name`` cut to about ``size`` indexed documents."""
    if name == "ng20":
        return ng20(CORPORA, per_group=size // 20)
    data = load(CORPORA, name)
    if name == "cranfield":
        return data
    own = np.asarray(data["own"])
    kept = own < size
    return {
        "docs": data["docs"][:size],
        "queries": [q for q, k in zip(data["queries"], kept, strict=True) if k],
        "own": own[kept],
    }


def measured(data: dict, scores: np.ndarray, subjects: bool) -> str:
    if "own" in data:
        return f"{pseudo_metrics(scores, data['own'])['MRR']:.4f}"
    m = labelled_metrics(scores, data["doc_labels"], data["query_labels"])
    return f"{m['P@10']:.4f}" if subjects else f"{m['P@10']:.4f} / {m['P@100']:.4f}"


def pseudo_query_mrr(encoder: Encoder, docs: list[str], codes: np.ndarray, seed: int) -> np.ndarray:
    """Reciprocal ranks of the index's own pseudo-queries' answers by the codes alone."""
    found = [q for q in fusion.pseudo_queries(docs, 1000, seed) if encoder.analyzer_(q.text)]
    embedded = encoder.transform([q.text for q in found] + [q.rest for q in found])
    scores = fusion._cosines(found, normalize_rows(codes), embedded)
    return fusion.reciprocal_ranks(scores, [q.doc for q in found])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["ng20", "npl", "cranfield"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 2000, 4000, 6000, 8000])
    parser.add_argument("--npl-sizes", nargs="+", type=int, default=[1500, 3000, 6000])
    parser.add_argument("--seed", type=int, default=0, help="the encoder's and pseudo-queries'")
    args = parser.parse_args()
    print(
        f"python -m research.starts --only {' '.join(args.only)} --sizes "
        f"{' '.join(map(str, args.sizes))} --npl-sizes {' '.join(map(str, args.npl_sizes))}"
        f" --seed {args.seed}"
        f"\n{date.today()} on {platform.machine()}, Python {platform.python_version()}\n"
    )
    print(
        "| slice | documents | start | fit s | chosen (codes, LSA) | default ranking | codes "
        "| LSA-D | BM25 | codes on pseudo-queries |"
    )
    print("|---" * 10 + "|")
    for name in args.only:
        sizes = {"ng20": args.sizes, "npl": args.npl_sizes}.get(name, [0])
        for size in sizes:
            data = slice_of(name, size)
            docs = data["docs"]
            sets = (
                {"titles": data["queries"]}
                if "own" in data
                else {"subject lines": data["subjects"], "whole documents": data["queries"]}
            )
            reciprocal = {}
            for start in STARTS:
                encoder, terms, _, fit = fit_encoder(docs, seed=args.seed, first_layer=start)
                spaces = [encoder.transform(docs), encoder.transform_lsa(docs)]
                lexical = LexicalIndex.from_counts(terms)
                both = fusion.Spaces(spaces[0], encoder.transform_both, spaces[1])
                choice = fusion.calibrate(
                    docs, encoder.analyzer_, lexical, both, fusion.Draw(seed=args.seed)
                )
                lexical = lexical.tuned(choice.k1, choice.b)
                reciprocal[start] = pseudo_query_mrr(encoder, docs, spaces[0], args.seed)
                tfidf = encoder.tfidf(encoder.vectorize(docs))
                base_lsa = lsa.directions(tfidf, encoder.code_size, args.seed)
                for label, texts in sets.items():
                    queries = Queries(texts, encoder, lexical, spaces, (choice.codes, choice.lsa))
                    short = label == "subject lines"
                    row = [
                        measured(data, queries.scores(3, 1.0), short),
                        measured(data, queries.queries[0] @ queries.docs[0].T, short),
                    ]
                    if start == STARTS[0]:  # the baselines do not depend on the start
                        kept, encoder.lsa_ = encoder.lsa_, base_lsa
                        lsa_docs = normalize_rows(encoder.transform_lsa(docs, tfidf))
                        lsa_queries = normalize_rows(encoder.transform_lsa(texts))
                        encoder.lsa_ = kept
                        alone = Queries(texts, encoder, lexical, spaces, (0.0, 0.0))
                        row += [
                            measured(data, lsa_queries @ lsa_docs.T, short),
                            measured(data, alone.scores(0, 0.0), short),
                        ]
                    else:
                        row += ["", ""]
                    print(
                        f"| {name} {label} | {len(docs):,} | {start} | {fit:.0f} | "
                        f"({choice.codes}, {choice.lsa}) | " + " | ".join(row) + " | "
                        f"{reciprocal[start].mean():.4f} |",
                        flush=True,
                    )
            diff = reciprocal["lsa"] - reciprocal["svd-softmax"]
            z = diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff)))
            print(f"| {name} | {len(docs):,} | lsa - svd-softmax on pseudo-queries: z {z:.1f} |")


if __name__ == "__main__":
    main()

"""Topical pseudo-queries without labels: their documents' nearest neighbours as answers.

Question: how should an unlabelled folder choose its default weights: by known-item
pseudo-queries alone, or also by their documents' nearest neighbours, and with how many
neighbours and what margin (docret.rank.calibrate.NEIGHBOURS, NEIGHBOURS_WITHIN)? It measures the
default ranking at the pair each rule chooses, beside BM25 and the semantic scores alone, on
validation queries; it reads no test query.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.neighbours                                   # every slice below
    python -m research.neighbours --only ng20 --sizes 1000 --neighbours 5 10 20

An unlabelled folder's default weights used to be chosen by known-item pseudo-queries alone
(a span cut out of a document, answered by that document). A typed question on a topic has
many answers, and those pseudo-queries weigh the semantic scores too little for it. Now the
same pseudo-queries are also answered by the ``k`` documents nearest to theirs by
whole-document tf-idf cosine (``docret.rank.calibrate.neighbour_topics``), and the pair whose top
10 holds most of them is taken if it beats BM25 alone by three standard errors.

For each slice (as ``research/starts.py`` cuts them; no test split, no test query) this script
fits the default encoder once and prints, on the slice's validation queries, the default
ranking (feedback included) at the pair each rule chooses, beside BM25 alone and the
semantic scores alone:

- ``ng20``: N / 20 training documents of each 20 Newsgroups group indexed, the next 150 of
  each group query them by subject line (P@10 / P@100, relevant = same group; typed topical
  questions) and whole (P@10 / P@100);
- ``npl`` (its first N documents) and ``cranfield``: bodies indexed, titles query them, the
  own body is the answer (MRR; known-item search, where BM25 alone does best).
"""

from __future__ import annotations

import argparse
import platform
from datetime import date

from docret.lexicon import LexicalIndex
from docret.rank import calibrate as fusion
from research.feedback import Queries
from research.starts import slice_of
from research.tune_model import fit_encoder, measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["ng20", "npl", "cranfield"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 2000, 4000, 8000])
    parser.add_argument("--npl-sizes", nargs="+", type=int, default=[1500, 3000, 6000, 12000])
    parser.add_argument("--neighbours", nargs="+", type=int, default=[fusion.NEIGHBOURS])
    parser.add_argument(
        "--within", nargs="+", type=float, default=[0.0, 1.0],
        help="neighbours' rule: the smallest weights within this many standard errors of the best",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="the encoder's and pseudo-queries'")
    args = parser.parse_args()
    print(
        f"python -m research.neighbours --only {' '.join(args.only)} --sizes "
        f"{' '.join(map(str, args.sizes))} --npl-sizes {' '.join(map(str, args.npl_sizes))} "
        f"--neighbours {' '.join(map(str, args.neighbours))} "
        f"--within {' '.join(map(str, args.within))} --seed {args.seed}"
        f"\n{date.today()} on {platform.machine()}, Python {platform.python_version()}\n"
    )
    print(
        "| slice | documents | fit s | rule | chosen (codes, LSA) | default ranking | "
        "BM25 alone | codes alone | LSA-128 alone |"
    )
    print("|---" * 9 + "|")
    for name in args.only:
        for size in {"ng20": args.sizes, "npl": args.npl_sizes}.get(name, [0]):
            data = slice_of(name, size)
            docs = data["docs"]
            encoder, terms, counts, fit = fit_encoder(docs, seed=args.seed)
            tfidf = encoder.tfidf(counts)
            spaces = [encoder.encode_tfidf(tfidf), encoder.transform_lsa(docs, tfidf)]
            lexical = LexicalIndex.from_counts(terms)
            both = fusion.Spaces(spaces[0], encoder.transform_both, spaces[1])
            rules = {"known items": (None, 0.0)}
            for k in args.neighbours:
                for se in args.within:
                    rules[f"neighbours, k={k}" + (f", within {se} SE" if se else "")] = (k, se)
            choices = {}
            for rule, (k, se) in rules.items():
                topical = fusion.Topical(
                    tfidf=None if k is None else tfidf, neighbours=k or fusion.NEIGHBOURS, within=se
                )
                choices[rule] = fusion.calibrate(
                    docs, encoder.analyzer_, lexical, both, fusion.Draw(seed=args.seed), topical
                )
            first = next(iter(choices.values()))
            lexical = lexical.tuned(first.k1, first.b)
            sets = {"titles": data["queries"]} if "own" in data else {}
            if not sets:
                sets = {"subject lines": data["subjects"], "whole documents": data["queries"]}
            for label, texts in sets.items():
                alone = Queries(texts, encoder, lexical, spaces, (0.0, 0.0))
                baselines = [
                    measured(data, alone.bm25),
                    measured(data, alone.queries[0] @ alone.docs[0].T),
                    measured(data, alone.queries[1] @ alone.docs[1].T),
                ]
                for rule, choice in choices.items():
                    pair = (choice.codes, choice.lsa)
                    queries = Queries(texts, encoder, lexical, spaces, pair)
                    print(
                        f"| {name} {label} | {len(docs):,} | {fit:.0f} | {rule} "
                        f"({choice.chosen_by}) | {pair} | {measured(data, queries.scores(3, 1.0))}"
                        " | " + " | ".join(baselines) + " |",
                        flush=True,
                    )
                    baselines = ["", "", ""]


if __name__ == "__main__":
    main()

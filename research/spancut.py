"""Pseudo-queries whose spans training never saw.

Question: does the autoencoder's having trained on the very spans that the pseudo-queries cut
out of their documents make those pseudo-queries favour the semantic scores, and so choose
other fusion weights? It measures the pseudo-queries' MRR at a few pairs of weights, the pair
they choose, and that pair on validation queries, with the spans in training and cut from it;
it reads no test query.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.spancut                      # Cranfield, NPL, 20NG slice; both starts
    python -m research.spancut --only cranfield --starts svd

The default ranking's weights come from pseudo-queries (``docret.rank.calibrate.calibrate``): a span
cut out of a document, answered by the rest of it. BM25 scores only the rest, but the
autoencoder (and LSA's directions) were fitted on the whole document, span included, so the
semantic scores know words the lexical one is denied. This script fits each validation
collection of ``research/tune_model.py`` (no test query is read) twice per start: on the
documents as they are (what an index does), and with the 1,000 pseudo-queries' spans cut out
of their documents before training (the index still encodes the whole documents). For each
it prints the pseudo-queries' mean reciprocal rank at a few weights, the pair the half-gain
rule chooses, and that pair's score on the validation queries (titles' MRR of their own
document, or the 20 Newsgroups slice's subject lines' P@10) beside BM25 alone and the best
pair of the grid.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

from docret.encoder import Encoder
from docret.lexicon import LexicalIndex
from docret.rank.calibrate import PSEUDO_QUERIES, pseudo_queries
from research.heldout import choose, validation_grid
from research.tune_model import CORPORA, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["cranfield", "npl", "ng20"])
    parser.add_argument("--starts", nargs="+", default=["svd", "lsa"])
    args = parser.parse_args()
    print(
        f"python -m research.spancut --only {' '.join(args.only)} --starts {' '.join(args.starts)}"
        f"\n{date.today()} on {platform.machine()}, Python {platform.python_version()}"
    )
    rows = []
    for name in args.only:
        data = load(CORPORA, name)
        docs = data["docs"]
        # The very pseudo-queries calibrate draws (same texts, same seed).
        picks = pseudo_queries(docs, PSEUDO_QUERIES, 0)
        for first_layer in args.starts:
            for spans in ("in training", "cut from training"):
                start = time.perf_counter()
                trained_on = list(docs)
                if spans != "in training":
                    for q in picks:
                        trained_on[q.doc] = q.rest
                encoder = Encoder(seed=0, first_layer=first_layer)
                encoder.fit_model(encoder.fit_vocabulary(encoder.count_terms(trained_on)))
                fit_s = time.perf_counter() - start
                lexical = LexicalIndex.from_counts(encoder.count_terms(docs))
                spaces = [encoder.transform(docs), encoder.transform_lsa(docs)]
                choice, lexical = choose(docs, encoder, lexical, spaces)
                mrr = choice.mrr
                best = max(mrr, key=mrr.get)
                grid = validation_grid(data, encoder, lexical, spaces)
                v_best = max(grid, key=grid.get)
                chosen = (choice.codes, choice.lsa)
                rows.append(
                    f"| {name} | {first_layer} | {spans} (fit {fit_s:.0f} s) "
                    f"| {mrr[(0.0, 0.0)]:.3f} | {mrr[(0.5, 0.0)]:.3f} | {mrr[(0.9, 0.0)]:.3f} "
                    f"| {mrr[(0.0, 0.5)]:.3f} | {best} {mrr[best]:.3f} | {chosen} "
                    f"| {grid[(0.0, 0.0)]:.4f} | {grid[chosen]:.4f} | {v_best} {grid[v_best]:.4f} |"
                )
                print(rows[-1], flush=True)
    print(
        "\n| collection | start | pseudo-queries' spans | BM25 | codes 0.5 | codes 0.9 | LSA 0.5 "
        "| best pair (MRR) | chosen pair | validation: BM25 | chosen | best pair |"
        "\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()

"""Fusion weights from pseudo-queries cut from documents the model trained on, or held out.

Usage (from a checkout, with ../shared/corpora beside it):

    python bench/heldout.py                     # Cranfield and NPL, both first-layer starts
    python bench/heldout.py --only cranfield --starts svd

The default ranking's weights are chosen from pseudo-queries (``docret.fusion.calibrate``).
Training feeds the autoencoder query-like spans of the very documents those pseudo-queries
are cut from, so on them the codes may look better than on a question nobody trained on.
This script fits the default encoder on each collection's documents (bodies, as
``bench/tune_model.py`` indexes them; no test query is read), then scores the fusion grid on
up to 3,000 pseudo-queries and splits them: those cut from the documents training used, and
those from the tenth it held out for early stopping (``Encoder.held_out_``). For each: the
MRR of BM25 alone, of codes 0.5 and 0.9, of LSA 0.5, the best pair and the pair the
half-gain rule chooses.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

from tune_model import CORPORA, load  # bench/tune_model.py, beside this file

from docret.encoder import Encoder
from docret.fusion import calibrate
from docret.lexicon import LexicalIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["cranfield", "npl"])
    parser.add_argument("--starts", nargs="+", default=["svd", "lsa"])
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    print(
        f"python bench/heldout.py --only {' '.join(args.only)} --starts {' '.join(args.starts)}"
        f"\n{date.today()} on {platform.machine()}, Python {platform.python_version()}\n"
    )
    print(
        "| collection | start | pseudo-queries from | n | BM25 | codes 0.5 | codes 0.9 | LSA 0.5 "
        "| best pair (MRR) | chosen pair |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.only:
        docs = load(CORPORA, name)["docs"]
        for first_layer in args.starts:
            start = time.perf_counter()
            encoder = Encoder(seed=0, first_layer=first_layer)
            terms = encoder.count_terms(docs)
            counts = encoder.fit_vocabulary(terms)
            encoder.fit_model(counts)
            tfidf = encoder.tfidf(counts)
            spaces = [encoder.encode_tfidf(tfidf), encoder.transform_lsa(docs, tfidf)]
            fit_s = time.perf_counter() - start
            lexical = LexicalIndex.from_counts(terms)
            held = set(encoder.held_out_.tolist())
            for label, among in (
                ("trained on", [i for i in range(len(docs)) if i not in held]),
                ("held out", sorted(held)),
            ):
                choice = calibrate(
                    docs,
                    encoder.analyzer_,
                    lexical.lexicon,
                    lexical.bm25,
                    spaces,
                    encoder.transform_both,
                    seed=0,
                    n=args.queries,
                    among=among,
                )
                mrr = choice.mrr
                best = max(mrr, key=mrr.get)
                print(
                    f"| {name} | {first_layer} (fit {fit_s:.0f} s) | {label} | {choice.queries} "
                    f"| {mrr[(0.0, 0.0)]:.3f} | {mrr[(0.5, 0.0)]:.3f} | {mrr[(0.9, 0.0)]:.3f} "
                    f"| {mrr[(0.0, 0.5)]:.3f} | {best} ({mrr[best]:.3f}) "
                    f"| ({choice.weight}, {choice.lsa}) |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

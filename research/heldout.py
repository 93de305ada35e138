"""Fusion weights from pseudo-queries cut from documents the model trained on, or held out.

Question: do pseudo-queries cut from documents the autoencoder trained on choose other fusion
weights than pseudo-queries from documents it never saw? It measures the pseudo-queries' MRR at
a few pairs of weights, the pair each set chooses, and that pair on validation queries; it
reads no test query.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.heldout                     # Cranfield, NPL, 20NG slice; both starts
    python -m research.heldout --only cranfield --starts svd

The default ranking's weights are chosen from pseudo-queries (``docret.rank.calibrate.calibrate``).
Training feeds the autoencoder query-like spans of the very documents those pseudo-queries
are cut from, so on them the codes may look better than on a question nobody trained on.
This script fits the default encoder on each validation collection of
``research/tune_model.py`` (Cranfield and NPL bodies, the 20 Newsgroups train slice; no test
query is read), then:

1. scores the fusion grid on up to 3,000 pseudo-queries from the documents training used,
   and on those from the tenth it held out for early stopping (``Encoder.held_out_``): the
   MRR of BM25 alone, of codes 0.5 and 0.9, of LSA 0.5, the best pair and the pair the
   half-gain rule chooses;
2. chooses the weights as an index does (1,000 pseudo-queries) from every document and from
   the held-out ones only, and scores both choices on the collection's validation queries:
   titles (Cranfield, NPL: MRR of the document they were cut from) or the held-out slice's
   subject lines (20 Newsgroups: P@10, relevant = same group), beside BM25 alone and the
   best pair of the grid.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

import numpy as np

from docret.encoder import Encoder
from docret.lexicon import LexicalIndex, query_terms
from docret.rank.base import min_max, normalize_rows
from docret.rank.calibrate import FUSION_GRID, PSEUDO_QUERIES, Draw, Spaces, calibrate
from docret.rank.default import mix
from research.tune_model import CORPORA, labelled_metrics, load, pseudo_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["cranfield", "npl", "ng20"])
    parser.add_argument("--starts", nargs="+", default=["svd", "lsa"])
    parser.add_argument("--queries", type=int, default=3000)
    args = parser.parse_args()
    print(
        f"python -m research.heldout --only {' '.join(args.only)} --starts {' '.join(args.starts)}"
        f"\n{date.today()} on {platform.machine()}, Python {platform.python_version()}"
    )
    split_rows, validation_rows = [], []
    for name in args.only:
        data = load(CORPORA, name)
        docs = data["docs"]
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
            trained = [i for i in range(len(docs)) if i not in held]
            for label, among in (("trained on", trained), ("held out", sorted(held))):
                choice, lexical = choose(docs, encoder, lexical, spaces, among, args.queries)
                mrr = choice.mrr
                best = max(mrr, key=mrr.get)
                split_rows.append(
                    f"| {name} | {first_layer} (fit {fit_s:.0f} s) | {label} | {choice.queries} "
                    f"| {mrr[(0.0, 0.0)]:.3f} | {mrr[(0.5, 0.0)]:.3f} | {mrr[(0.9, 0.0)]:.3f} "
                    f"| {mrr[(0.0, 0.5)]:.3f} | {best} ({mrr[best]:.3f}) "
                    f"| ({choice.codes}, {choice.lsa}) |"
                )
            grid = validation_grid(data, encoder, lexical, spaces)
            best = max(grid, key=grid.get)
            chosen = [choose(docs, encoder, lexical, spaces, a)[0] for a in (None, sorted(held))]
            validation_rows.append(
                f"| {name} | {first_layer} | {grid[(0.0, 0.0)]:.4f} | {best} {grid[best]:.4f} | "
                + " | ".join(f"({c.codes}, {c.lsa}) {grid[(c.codes, c.lsa)]:.4f}" for c in chosen)
                + " |"
            )
            print(split_rows[-2], split_rows[-1], validation_rows[-1], sep="\n", flush=True)
    print(
        "\n| collection | start | pseudo-queries from | n | BM25 | codes 0.5 | codes 0.9 | LSA 0.5 "
        "| best pair (MRR) | chosen pair |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(split_rows))
    print(
        "\n| collection | start | validation queries: BM25 alone | best pair | chosen from "
        "every document | chosen from held-out documents |\n|---|---|---|---|---|---|"
    )
    print("\n".join(validation_rows))


def choose(
    docs, encoder: Encoder, lexical: LexicalIndex, spaces, among=None, n: int = PSEUDO_QUERIES
):
    """The fusion weights an index of ``docs`` would choose (seed 0), from pseudo-queries cut
    from the documents ``among`` (all if None), and ``lexical`` with the BM25 parameters chosen
    with them, as an index's."""
    choice = calibrate(
        docs,
        encoder.analyzer_,
        lexical,
        Spaces(spaces[0], encoder.transform_both, spaces[1]),
        Draw(seed=0, n=n, among=among),
    )
    return choice, lexical.tuned(choice.k1, choice.b)


def validation_grid(data: dict, encoder: Encoder, lexical: LexicalIndex, spaces) -> dict:
    """The validation metric of the fused ranking at each pair of the grid (and BM25 alone):
    titles' MRR, or subject lines' P@10 (``research/tune_model.py``'s protocols)."""
    analyzer = encoder.analyzer_
    texts = data["queries"] if "own" in data else data["subjects"]
    known = [i for i, q in enumerate(texts) if query_terms(analyzer, q, lexical.lexicon)[0].size]
    texts = [texts[i] for i in known]
    bm25 = np.stack(
        [lexical.bm25.scores(*query_terms(analyzer, q, lexical.lexicon)) for q in texts]
    )
    embedded = encoder.transform_both(texts)
    codes, lsa = (
        min_max(normalize_rows(q) @ normalize_rows(d).T)
        for q, d in zip(embedded, spaces, strict=True)
    )
    bm25 = min_max(bm25)
    out = {}
    for a, b in [(0.0, 0.0), *FUSION_GRID]:
        fused = mix(bm25, codes, a, lsa, b)
        if "own" in data:
            out[(a, b)] = pseudo_metrics(fused, data["own"][known])["MRR"]
        else:
            labels = data["query_labels"][known]
            out[(a, b)] = labelled_metrics(fused, data["doc_labels"], labels)["P@10"]
    return out


if __name__ == "__main__":
    main()

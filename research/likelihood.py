"""Ranking by the decoder's likelihood of a query's words, on validation queries only.

Question: does ranking by the decoder's likelihood of the query's words beat the code cosine,
alone or fused with BM25, and how much of the cosine should ``--method likelihood`` add
(docret.rank.likelihood.LIKELIHOOD_COSINE)? It measures both rankings, their mixes and LSA on
validation queries, and the best fused pair with each; it reads no test query.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m research.likelihood                    # Cranfield, NPL, the 20 Newsgroups slice
    python -m research.likelihood --only cranfield

For each validation collection of ``research/tune_model.py`` (Cranfield's and NPL's bodies
queried by their titles, MRR of the body each was cut from; the 20 Newsgroups train slice
queried by the next 150 posts of each group, by subject line and whole, P@10 / P@100 with
relevant = same group; no test query), this script fits the default encoder (``--seed``)
and prints:

1. the codes alone, by cosine and by the likelihood
   (:func:`docret.rank.likelihood.query_likelihood`, the query's words weighted once each or by
   their tf-idf), and by the likelihood with 0.25 or 0.5 of the code cosine
   (:func:`docret.rank.likelihood.likelihood_ranking`; ``--method likelihood`` takes 0.25), beside
   LSA at the code's dimension and at the default ranking's 128;
2. the best pair of weights of the fusion grid (BM25 + a x semantic + b x LSA-128, each
   min-max scaled, no feedback) with the cosine and with the likelihood as the semantic
   score: an upper bound on what calibration could choose for each.
"""

from __future__ import annotations

import argparse
import platform
from datetime import date

import numpy as np

from docret.inference import NumpyDecoder
from docret.lexicon import LexicalIndex, query_terms
from docret.lsa import project
from docret.rank.base import min_max, normalize_rows
from docret.rank.calibrate import FUSION_GRID
from docret.rank.likelihood import likelihood_ranking, query_likelihoods
from research.tune_model import CORPORA, fit_encoder, load, measured


def likelihoods(decoder: NumpyDecoder, parts, tfidf, weighted: bool) -> np.ndarray:
    """(Q, N) likelihood scores of the queries whose tf-idf rows are ``tfidf``, their words
    weighted by it or each once."""
    if not weighted:
        tfidf = tfidf.copy()
        tfidf.data[:] = 1.0
    return query_likelihoods(*parts, decoder.output, tfidf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["cranfield", "npl", "ng20"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"python -m research.likelihood --only {' '.join(args.only)} --seed {args.seed}"
        f"\n{date.today()} on {platform.machine()}, Python {platform.python_version()}\n"
    )
    alone, fused = [], []
    for name in args.only:
        data = load(CORPORA, name)
        docs = data["docs"]
        encoder, terms, counts, fit_s = fit_encoder(docs, seed=args.seed)
        doc_tfidf = encoder.tfidf(counts)
        codes = encoder.encode_tfidf(doc_tfidf)
        decoder = NumpyDecoder(encoder.config_.to_dict(), encoder.export()["weights"])
        parts = decoder.likelihood_parts(codes)
        lexical = LexicalIndex.from_counts(terms)
        lsa_docs = encoder.transform_lsa(docs, doc_tfidf)
        d = codes.shape[1]
        lsa_small = project(doc_tfidf, encoder.lsa_[:d])
        sets = {"titles": data["queries"]} if "own" in data else {}
        if not sets:
            sets = {"subject lines": data["subjects"], "whole posts": data["queries"]}
        for label, texts in sets.items():
            tfidf = encoder.tfidf(encoder.vectorize(texts))
            cosine = normalize_rows(encoder.encode_tfidf(tfidf)) @ normalize_rows(codes).T
            once, weighted = (likelihoods(decoder, parts, tfidf, w) for w in (False, True))
            lsa_big = project(tfidf, encoder.lsa_) @ lsa_docs.T
            small = project(tfidf, encoder.lsa_[:d]) @ lsa_small.T
            mixed = [likelihood_ranking(weighted, cosine, w) for w in (0.25, 0.5)]
            columns = [cosine, once, weighted, *mixed, small, lsa_big]
            alone.append(
                f"| {name} {label} | "
                + " | ".join(measured(data, s) for s in columns)
                + f" | {fit_s:.0f} |"
            )
            print(alone[-1], flush=True)
            if label == "whole posts":
                continue  # the fusion is for typed queries
            analyzer, lexicon = encoder.analyzer_, lexical.lexicon
            terms_of = [query_terms(analyzer, t, lexicon) for t in texts]
            bm25 = np.stack([lexical.bm25.scores(*t) for t in terms_of])
            scaled = [min_max(s) for s in (bm25, cosine, weighted, lsa_big)]
            row = f"| {name} {label} | {measured(data, scaled[0])} |"
            for semantic in scaled[1:3]:
                best, best_value = None, -1.0
                for a, b in FUSION_GRID:
                    mixed = (1 - a - b) * scaled[0] + a * semantic + b * scaled[3]
                    value = float(measured(data, mixed).split(" / ")[0])
                    if value > best_value:
                        best, best_value = (a, b), value
                row += f" {best_value:.4f} {best} |"
            fused.append(row)
            print(fused[-1], flush=True)
    print(
        "\n| validation set | codes, cosine | likelihood, each word once | likelihood, tf-idf "
        "weights | with 0.25 of the cosine | with 0.5 | LSA-D (its first D directions) | LSA-128 "
        "| fit s |\n|---|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(alone))
    print(
        "\n| validation set | BM25 alone | best pair with the cosine | best pair with the "
        "likelihood |\n|---|---|---|---|"
    )
    print("\n".join(fused))


if __name__ == "__main__":
    main()

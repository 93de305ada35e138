"""Retrieval quality of docret against tf-idf, BM25 and LSA on ../shared/corpora.

Usage (from a checkout, with ../shared/corpora beside it):

    python bench/quality.py                 # 20 Newsgroups at D=32, 10, 128, and Cranfield
    python bench/quality.py --quick         # D=32 and Cranfield only
    python bench/quality.py --out bench/out # also write each run's JSON there

Every run builds on the train split and queries with the test split (20 Newsgroups, raw text,
headers kept) or with the judged queries (Cranfield), seeds fixed; the baselines are computed in
the same run. Results are printed as Markdown tables ready for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

from docret.evaluate import evaluate, load_collection

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"


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
        lines.append(f"| {r.method} | {cells} | {r.fit_seconds:.1f} | {r.query_ms:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only D=32 and Cranfield")
    parser.add_argument("--out", type=Path, help="folder for JSON results")
    args = parser.parse_args()

    runs = [("20newsgroups/docs.jsonl.gz", 32), ("cranfield", 32)]
    if not args.quick:
        runs[1:1] = [("20newsgroups/docs.jsonl.gz", 10), ("20newsgroups/docs.jsonl.gz", 128)]
    print(f"python bench/quality.py{' --quick' if args.quick else ''}")
    print(
        f"{date.today()} on {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}\n"
    )
    for rel, dims in runs:
        collection = load_collection(SHARED / rel)
        start = time.perf_counter()
        # The paper's claim: 10-D codes beat 50-D LSA; so D=10 runs LSA-50 beside LSA-10.
        extra = (50,) if dims == 10 else (128,) if rel == "cranfield" else ()
        results = evaluate(collection, code_size=dims, extra_lsa=extra, seed=0, device="cpu")
        print(
            table(
                results,
                f"{collection.name}, D={dims} ({len(collection.documents):,} "
                f"documents, {len(collection.queries):,} queries, "
                f"{time.perf_counter() - start:.0f} s)",
            )
        )
        print(flush=True)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            name = f"{Path(rel).parts[0]}-d{dims}.json"
            (args.out / name).write_text(
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

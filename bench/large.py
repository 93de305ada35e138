"""A million documents: index, add and query at that size, with time per stage and peak memory.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m bench.large                      # 1,000,000 documents, 1 epoch
    python -m bench.large --documents 100000 --workdir WORKDIR

The documents are generated from 20 Newsgroups train's words (each a resample of a random
train document, bench/speed.py's ``generate``), written to a JSON-lines file that docret
reads as a stream. Every step runs in a child process, so that its peak resident memory
(``ru_maxrss``) is its own: ``Index.build`` with one epoch (memory and time, not quality;
the time of each progress stage), ``Index.add`` of 10,000 further generated documents, then
queries through ``Index.query``, by the codes alone and by the default ranking.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.speed import build, child_result, generate, print_stages, split

CHILD = r"""
import json, resource, statistics, sys, time
from docret.index import Index

step, db, arg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = {}
start = time.perf_counter()
index = Index.open(db)
if step == "add":
    out["added"] = len(index.add(arg["path"]).added)
else:
    from docret.errors import QueryError
    queries = []
    for q in arg["queries"]:  # a sample of random words: some have none the index knows
        try:
            index.vectorize(q)
            queries.append(q)
        except QueryError:
            pass
    out["queries"] = len(queries)
    for method in ("codes", "default"):
        first = time.perf_counter()
        index.query(queries[0], k=10, method=method)
        out[method + "_first_s"] = time.perf_counter() - first
        ms = []
        for q in queries:
            t = time.perf_counter()
            index.query(q, k=10, method=method)
            ms.append((time.perf_counter() - t) * 1000)
        out[method + "_p50_ms"] = statistics.median(ms)
out["seconds"] = time.perf_counter() - start
out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps(out))
"""


def child(step: str, db: Path, **arg) -> dict:
    """Run ``add`` or ``query`` on ``db`` in a fresh process and return what it measured."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, step, str(db), json.dumps(arg)],
        capture_output=True,
        text=True,
    )
    return child_result(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--added", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here")
    parser.add_argument(
        "--queries-only", action="store_true", help="only time queries on the workdir's index"
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="docret-large-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"python -m bench.large --documents {args.documents} --epochs {args.epochs}\n"
        f"{date.today()} on {platform.machine()}, Python {platform.python_version()}"
    )
    train = split("train")
    corpus, extra = work / f"corpus{args.documents}.jsonl", work / "added.jsonl"
    if not corpus.exists():
        generate(train, corpus, args.documents)
    generate(train, extra, args.added, prefix="new", seed=1)
    db = work / "large.db"
    if not args.queries_only:
        db.unlink(missing_ok=True)
        r = build(corpus, db, seed=0, epochs=args.epochs)
        print(
            f"\nindex {r['documents']:,} documents: {r['seconds']:.1f} s, "
            f"peak {r['peak_gb']:.2f} GB, {db.stat().st_size / 1e9:.2f} GB on disk"
        )
        print_stages(r)
        r = child("add", db, path=str(extra))
        print(f"\nadd {r['added']:,} documents: {r['seconds']:.1f} s, peak {r['peak_gb']:.2f} GB")

    words = [d["text"].split() for d in train]
    queries = [" ".join(random.Random(i).sample(w, min(6, len(w)))) for i, w in enumerate(words)]
    r = child("query", db, queries=queries[:200])
    print(
        f"\nqueries at {args.documents + args.added:,} documents ({r['queries']} six-word queries, "
        f"top 10, in process): codes p50 {r['codes_p50_ms']:.2f} ms (first "
        f"{r['codes_first_s']:.2f} s), default p50 {r['default_p50_ms']:.2f} ms (first "
        f"{r['default_first_s']:.2f} s), peak {r['peak_gb']:.2f} GB"
    )


if __name__ == "__main__":
    main()

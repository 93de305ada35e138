"""Index and query speed of docret on 20 Newsgroups train, with baselines run beside it.

Usage (from a checkout, with ../shared/corpora beside it):

    python bench/speed.py              # index 20 Newsgroups train, then time queries
    python bench/speed.py --db X.db    # reuse an index built earlier (skip the indexing)

Prints: index time (read + vocabulary + training + encoding + writing), peak memory of the
indexing process, in-process query latency (one query at a time: p50, min, max over the 7,532
test documents' first lines) for the learned codes and for tf-idf cosine over the same index, and
the wall time of a whole `docret query` process against `python -c "import numpy, sqlite_utils"`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "20newsgroups"


def split(name: str) -> list[dict]:
    with gzip.open(SHARED / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        return [d for d in map(json.loads, f) if d["split"] == name]


def latencies(fn, queries) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> str:
    return f"p50 {statistics.median(ms):.2f} ms (min {min(ms):.2f}, max {max(ms):.2f})"


def process_seconds(cmd: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="an existing index of 20 Newsgroups train")
    args = parser.parse_args()
    from docret.corpus import title_of
    from docret.index import Index

    print(
        f"python bench/speed.py\n{date.today()} on {platform.machine()}, "
        f"Python {platform.python_version()}\n"
    )
    workdir = Path(tempfile.mkdtemp())
    db = args.db
    if db is None:
        train = workdir / "train.jsonl"
        train.write_text("".join(json.dumps(d) + "\n" for d in split("train")))
        db = workdir / "20ng.db"
        start = time.perf_counter()
        index = Index.build(train, db, seed=0)
        seconds = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(
            f"index 20 Newsgroups train ({index.last_build.documents:,} docs, "
            f"{index.last_build.epochs} epochs): {seconds:.1f} s, peak memory {peak_gb:.2f} GB"
        )
        index.close()

    queries = [title_of(d["text"]) for d in split("test")]  # subject lines
    with Index.open(db) as index:
        index.query("warm up")  # loads codes and weights once, as a long-lived process would
        index.tfidf_query("warm up")
        ok = [q for q in queries if _answerable(index, q)]
        print(
            f"{len(ok):,} test-document first lines as queries ({len(queries) - len(ok)} "
            "had no vocabulary word)"
        )
        print("docret codes    ", summary(latencies(lambda q: index.query(q, 10), ok)))
        print("tf-idf cosine   ", summary(latencies(lambda q: index.tfidf_query(q, 10), ok)))

    docret = [
        sys.executable,
        "-m",
        "docret",
        "-d",
        str(db),
        "query",
        "space shuttle orbit",
        "--json",
    ]
    base = [sys.executable, "-c", "import numpy, sqlite_utils"]
    a, b = process_seconds(docret), process_seconds(base)
    print(
        f"docret query process {a:.2f} s; python -c 'import numpy, sqlite_utils' {b:.2f} s; "
        f"ratio {a / b:.1f}x"
    )


def _answerable(index, text: str) -> bool:
    from docret.errors import QueryError

    try:
        index.vectorize(text)
    except QueryError:
        return False
    return True


if __name__ == "__main__":
    main()

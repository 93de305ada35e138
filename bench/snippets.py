"""What query-aware snippets cost: in-process query time with them and without.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m bench.snippets                 # about three minutes on 2 cores
    python -m bench.snippets --base DIR      # also time the docret package in DIR
    python -m bench.snippets --workdir DIR   # keep the indexes in DIR and reuse them

Three small indexes, built with tiny model settings (the model does not change what snippets
cost): the first 3,000 training posts of 20 Newsgroups, queried with test posts' subject lines;
the 11,426 NPL abstracts, queried with its 93 queries; the 304 Gutenberg chapters (median 2,989
words), queried with their printed titles. Each query runs the default ranking for the top 10.

In process, alternately: "first lines" turns the ranker's answer into hits showing their first
lines (every hit's snippet before query-aware snippets, and still that of a hit without a
query), "passages" is ``Index.query``, whose hits show the passage that best answers the query
with its words marked. With ``--base DIR`` (a checkout from before query-aware snippets, e.g.
``git archive 0242146 docret | tar -x -C DIR``), ``Index.query`` of each checkout is timed in a
child process whose ``PYTHONPATH`` is that checkout, six processes each, alternately.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
REPO = Path(__file__).resolve().parents[1]
TINY = dict(epochs=2, hidden=(64,), code_size=16, vocab_size=2000, pretrain=False)
TINY.update(device="cpu", seed=0, threads=1)
POSTS = 3000
ROUNDS = 3
CHILD_RUNS = 6  # processes per checkout, one round over the queries each
CHILD = """
import json, sys, time
import docret
from docret.index import Index
assert docret.__file__.startswith(sys.argv[4]), docret.__file__
index = Index.open(sys.argv[1])
queries = json.load(open(sys.argv[2]))
for text in queries:
    index.query(text, 10)  # each query's first run reads what it needs
times = []
for _ in range(int(sys.argv[3])):
    for text in queries:
        start = time.perf_counter()
        index.query(text, 10)
        times.append((time.perf_counter() - start) * 1000)
print(json.dumps(times))
"""


def read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def newsgroups(work: Path) -> tuple[Path, list[str]]:
    """The first :data:`POSTS` training posts as a JSONL file, and test posts' subject lines."""
    from docret.corpus import title_of

    docs = read(CORPORA / "20newsgroups" / "docs.jsonl.gz")
    train = [d for d in docs if d["split"] == "train"][:POSTS]
    path = work / "20ng.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in train))
    return path, [title_of(d["text"]) for d in docs if d["split"] == "test"]


def collection(name: str):
    """A collection's documents as a JSONL file, and its queries."""

    def files(work: Path) -> tuple[Path, list[str]]:
        path = work / f"{name}.jsonl"
        path.write_text(
            "".join(json.dumps(d) + "\n" for d in read(CORPORA / name / "docs.jsonl.gz"))
        )
        return path, [q["text"] for q in read(CORPORA / name / "queries.jsonl")]

    return files


def usable(db: Path, queries: list[str], n: int) -> list[str]:
    """The first ``n`` of ``queries`` that the index can answer."""
    from docret.errors import QueryError
    from docret.index import Index

    out = []
    with Index.open(db) as index:
        for text in queries:
            try:
                index.query(text, 10)
            except QueryError:
                continue
            out.append(text)
            if len(out) == n:
                break
    return out


def in_process(db: Path, queries: list[str]) -> dict[str, list[float]]:
    """Milliseconds per query with first lines and with passages, alternately; and the share of
    the passages' hits with a marked word."""
    from docret import rank
    from docret.hits import ranking
    from docret.index import Index

    times: dict[str, list[float]] = {"first lines": [], "passages": []}
    with Index.open(db) as index:
        state = index.snapshot

        def first_lines(text: str):
            return ranking(index.store, state, rank.run(state, [text], 10, None)[0])

        def passages(text: str):
            return index.query(text, 10)

        for text in queries:
            first_lines(text), passages(text)
        for _ in range(ROUNDS):
            for text in queries:
                for label, fn in (("first lines", first_lines), ("passages", passages)):
                    start = time.perf_counter()
                    fn(text)
                    times[label].append((time.perf_counter() - start) * 1000)
        hits = [h for text in queries for h in index.query(text, 10)]
    marked = sum(1 for h in hits if h.highlights)
    print(f"  {marked:,} of {len(hits):,} hits show a marked query word")
    return times


def child(checkout: Path, db: Path, queries: Path) -> list[float]:
    """Milliseconds per query of ``Index.query`` in a process running ``checkout``'s docret
    (and importing it)."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(  # run in the checkout: "python -c" imports from its folder first
        [
            sys.executable,
            "-c",
            CHILD,
            str(db.resolve()),
            str(queries.resolve()),
            "1",
            str(checkout),
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def line(label: str, ms: list[float], base: list[float]) -> str:
    mean, p50 = statistics.fmean(ms), statistics.median(ms)
    ratio = f"{mean / statistics.fmean(base):.2f}x, p50 {p50 / statistics.median(base):.2f}x"
    return f"  {label:28s} mean {mean:.3f} ms, p50 {p50:.3f} ms ({ratio})"


def measure(name: str, source: Path, db: Path, queries: list[str], args) -> None:
    from docret.index import Index

    print(f"\n{name}")
    if not db.exists():
        start = time.perf_counter()
        Index.build(source, db, **TINY).close()
        print(f"  built in {time.perf_counter() - start:.0f} s")
    queries = usable(db, queries, args.queries)
    print(f"  {len(queries)} queries x {ROUNDS} rounds")
    times = in_process(db, queries)
    for label, ms in times.items():
        print(line(label, ms, times["first lines"]))
    if args.base:
        path = db.with_suffix(".queries.json")
        path.write_text(json.dumps(queries))
        runs: dict[str, list[float]] = {"base": [], "this checkout": []}
        for _ in range(CHILD_RUNS):  # alternately: a busy machine slows both alike
            runs["base"] += child(args.base.resolve(), db, path)
            runs["this checkout"] += child(REPO, db, path)
        for label, ms in runs.items():
            print(line(f"Index.query, {label}", ms, runs["base"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="a checkout to time Index.query of too")
    parser.add_argument("--workdir", type=Path, help="keep the indexes here and reuse them")
    parser.add_argument("--queries", type=int, default=300, help="queries per index, at most")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"python -m bench.snippets\n{date.today()} on {platform.machine()}, "
        f"{platform.processor() or 'cpu'}, Python {platform.python_version()}"
    )
    for name, corpus in (
        (f"20 Newsgroups, the first {POSTS:,} training posts", newsgroups),
        ("NPL, 11,426 abstracts", collection("npl")),
        ("Gutenberg, 304 chapters", collection("gutenberg_chapters")),
    ):
        source, queries = corpus(work)
        measure(name, source, work / (source.stem + ".db"), queries, args)


if __name__ == "__main__":
    main()

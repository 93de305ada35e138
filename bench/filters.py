"""What a filter costs a query: the same queries with and without filters, phrases and excluded
words, on 20 Newsgroups repeated to a given size.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m bench.filters                          # 50,000 documents
    python -m bench.filters --documents 20000 --workdir WORKDIR   # keep and reuse the index

The documents are 20 Newsgroups (train and test, headers kept) repeated with new ids until
there are ``--documents``, each keeping its newsgroup as its label; a tiny model is trained
(codes of 16, two epochs: the ranking's quality is not measured here). JSON-lines records carry
no type, date or author, so the benchmark then gives each document synthetic ones in the file
(a type of five, a day in 2015-2024, an author of five, by document number): what the readers
of PDFs, mail and HTML store. Queries are 200 subject lines, top 10, in one process, each
figure the median; "first" is the first query of a filter on a snapshot whose facts are
already loaded (a new filter: its mask computed), "again" the same filter asked again (its
mask cached), and the facts' one pass over the documents is timed on its own.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "20newsgroups"
TYPES = ("pdf", "html", "email", "markdown", "text")
AUTHORS = ("Ann", "Bob", "Carol", "Dan", "Eve")
FILTERS = {
    "label (1 group of 20)": {"label": "sci.space"},
    "type (1 of 5)": {"type": "pdf"},
    "since (about half)": {"since": "2020-01-01"},
    "path (a glob, all)": {"path": "*.jsonl"},
    "where author= (1 of 5)": {"where": "author=Ann"},
    "label + type + since": {"label": "rec.autos", "type": "email", "since": "2018"},
}
METHODS = ("default", "bm25", "codes")
SYNTAX = {
    "-word": "{q} -article",
    '"phrase"': '"{pair}"',
    "field:value": "{q} type:html",
}


def write_corpus(path: Path, count: int) -> list[str]:
    """20 Newsgroups repeated to ``count`` records; returns 200 subject lines as queries."""
    with gzip.open(SHARED / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            d = docs[i % len(docs)]
            record = {"id": f"{i // len(docs)}/{d['id']}", "text": d["text"], "labels": d["labels"]}
            out.write(json.dumps(record) + "\n")
    subjects = []
    for d in docs[::97]:
        for line in d["text"].splitlines():
            if line.lower().startswith("subject:") and len(line.split()) > 2:
                subjects.append(line.split(":", 1)[1].replace("Re:", "").strip())
                break
    return subjects[:200]


def give_metadata(db: Path) -> None:
    """Synthetic type, date and author for every document, written into the file."""
    first = date(2015, 1, 1)
    conn = sqlite3.connect(db)
    rows = conn.execute("select rowid from documents").fetchall()
    with conn:
        conn.executemany(
            "update documents set metadata = ? where rowid = ?",
            [
                (
                    json.dumps(
                        {
                            "type": TYPES[r % 5],
                            "date": (first + timedelta(days=(r * 37) % 3650)).isoformat(),
                            "author": AUTHORS[(r // 5) % 5],
                        }
                    ),
                    r,
                )
                for (r,) in rows
            ],
        )
    conn.close()


def median_ms(index, queries: list[str], **options) -> float:
    """The median time of the queries the method can rank (the codes know fewer words)."""
    from docret.errors import QueryError

    times = []
    for q in queries:
        start = time.perf_counter()
        try:
            index.query(q, k=10, **options)
        except QueryError:
            continue
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def ranks(index, text: str, method: str) -> bool:
    """Whether ``method`` ranks ``text`` (knows one of its words)."""
    from docret.errors import QueryError

    try:
        index.query(text, k=1, method=method)
    except QueryError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="docret-filters-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"python -m bench.filters --documents {args.documents}\n"
        f"{date.today()} on {platform.machine()} ({platform.processor() or 'cpu'}), "
        f"Python {platform.python_version()}"
    )
    from docret.errors import QueryError
    from docret.index import Index

    corpus, db = work / f"corpus{args.documents}.jsonl", work / f"filters{args.documents}.db"
    queries = write_corpus(corpus, args.documents)
    if not db.exists():
        start = time.perf_counter()
        options = {"hidden": (64, 32), "code_size": 16, "epochs": 2, "vocab_size": 2000}
        Index.build(corpus, db, seed=0, threads=1, **options).close()
        give_metadata(db)
        print(f"built {args.documents:,} documents in {time.perf_counter() - start:.0f} s")
    index = Index.open(db)
    kept = []
    for q in queries:
        try:
            index.query(q, k=10)
            kept.append(q)
        except QueryError:
            pass
    queries = kept
    print(f"{len(queries)} queries; default ranking: {index.default_ranking()}\n")
    first_query = {m: next(q for q in queries if ranks(index, q, m)) for m in METHODS}

    start = time.perf_counter()
    index.snapshot.facts  # noqa: B018 - the one pass over the documents, timed
    print(f"facts of {args.documents:,} documents read in {time.perf_counter() - start:.2f} s\n")
    print("| method | filter | no filter (ms) | first (ms) | again (ms) | again / none |")
    print("|---|---|---:|---:|---:|---:|")
    for method in METHODS:
        plain = median_ms(index, queries, method=method)
        for name, filters in FILTERS.items():
            index.snapshot.facts._masks.clear()  # noqa: SLF001 - a new filter again
            start = time.perf_counter()
            index.query(first_query[method], k=10, method=method, filters=filters)
            first = (time.perf_counter() - start) * 1000
            again = median_ms(index, queries, method=method, filters=filters)
            print(
                f"| {method} | {name} | {plain:.2f} | {first:.1f} | {again:.2f} "
                f"| {again / plain:.2f} |"
            )
    print("\n| query syntax (default ranking) | no syntax (ms) | with it (ms) | ratio |")
    print("|---|---:|---:|---:|")
    plain = median_ms(index, queries)
    pairs = [" ".join(q.split()[:2]) for q in queries]
    for name, form in SYNTAX.items():
        texts = [form.format(q=q, pair=p) for q, p in zip(queries, pairs, strict=True)]
        with_it = median_ms(index, texts)
        print(f"| {name} | {plain:.2f} | {with_it:.2f} | {with_it / plain:.2f} |")


if __name__ == "__main__":
    main()

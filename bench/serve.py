"""docret serve over HTTP on loopback: query latency against in-process Index.query, then a
bounded load test (mixed query/similar/explain), alone and while `docret add` writes.

    python -m bench.serve                       # builds a fast 20 Newsgroups index if needed
    python -m bench.serve --db 20ng.db --add more.jsonl --clients 32 --seconds 30

The index is 20 Newsgroups train (../shared/corpora/20newsgroups/docs.jsonl.gz); without --db
one is built once with fast settings (3 epochs, no pre-training: serving speed does not depend
on how well the model learned). Queries are the subject lines of test documents (short, as
users type them). The added documents are the first 1,000 test documents. Everything runs on
127.0.0.1; every loop is bounded by a count or a deadline.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np

from bench.speed import answerable

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "20newsgroups" / "docs.jsonl.gz"
FAST_BUILD = ["--epochs", "3", "--no-pretrain"]


def read_corpus(path: Path) -> tuple[list[dict], list[dict]]:
    train, test = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            (train if doc.get("split") == "train" else test).append(doc)
    return train, test


def subject(text: str) -> str | None:
    for line in text.splitlines()[:30]:
        if line.lower().startswith("subject:"):
            s = line.split(":", 1)[1].strip()
            while s.lower().startswith("re:"):
                s = s[3:].strip()
            return s or None
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(ms: list[float]) -> tuple[float, float]:
    a = np.asarray(ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


class Server:
    """`python -m docret serve` on loopback, stopped on exit."""

    def __init__(self, db: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "docret", "-d", str(db), "serve", "--port", str(self.port)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, _ = self.get(http.client.HTTPConnection("127.0.0.1", self.port), "/")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("docret serve did not start")

    @staticmethod
    def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def latency(db: Path, server: Server, queries: list[str], k: int) -> dict:
    """p50/p99 of Index.query in this process and of GET /api/query, same queries, same k."""
    from docret.index import Index

    index = Index.open(db)
    for q in queries[:20]:
        index.query(q, k)  # load and warm
    local = []
    for q in queries:
        start = time.perf_counter()
        index.query(q, k)
        local.append((time.perf_counter() - start) * 1000)
    index.close()
    conn = server.connect()
    for q in queries[:20]:
        server.get(conn, "/api/query?" + urlencode({"q": q, "k": k}))
    remote = []
    for q in queries:
        start = time.perf_counter()
        status, _ = server.get(conn, "/api/query?" + urlencode({"q": q, "k": k}))
        remote.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
    conn.close()
    return {"in_process": percentiles(local), "http": percentiles(remote), "n": len(queries)}


def load(server: Server, queries: list[str], ids: list[str], clients: int, seconds: float) -> dict:
    """``clients`` threads, each on its own keep-alive connection, until the deadline."""
    paths = [
        lambda r: "/api/query?" + urlencode({"q": r.choice(queries), "k": 10}),
        lambda r: "/api/similar/" + quote(r.choice(ids), safe="") + "?k=10",
        lambda r: "/api/explain?" + urlencode({"q": r.choice(queries), "k": 10}),
    ]
    results: list[list[tuple[float, bool]]] = [[] for _ in range(clients)]
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        r = random.Random(n)
        conn = server.connect()
        while time.monotonic() < deadline:
            path = paths[len(results[n]) % 3](r)
            start = time.perf_counter()
            try:
                status, _ = server.get(conn, path)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = server.connect()
            results[n].append(((time.perf_counter() - start) * 1000, ok))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    flat = [x for per in results for x in per]
    p50, p99 = percentiles([ms for ms, _ in flat])
    return {
        "requests": len(flat),
        "rps": len(flat) / elapsed,
        "p50": p50,
        "p99": p99,
        "errors": sum(1 for _, ok in flat if not ok),
    }


def build_fast(train: list[dict], work: Path) -> Path:
    """A fast index of the ``train`` documents, built in ``work`` by the CLI."""
    source = work / "train.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in train), encoding="utf-8")
    db = work / "built.db"
    print(f"building a fast index of {len(train):,} train documents ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "docret", "-d", str(db), "index", str(source)]
        + FAST_BUILD
        + ["--json"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return db


def load_while_adding(
    server: Server, db: Path, added: Path, queries: list[str], ids: list[str], args
) -> tuple[dict, dict, float]:
    """:func:`load` while another process adds the documents of ``added`` to ``db``: the
    load's figures, the add's report and how long the add took."""
    adder = subprocess.Popen(
        [sys.executable, "-m", "docret", "-d", str(db), "add", str(added), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    add_start = time.monotonic()
    add_seconds = 0.0

    def time_add() -> None:
        nonlocal add_seconds
        adder.wait(600)
        add_seconds = time.monotonic() - add_start

    waiter = threading.Thread(target=time_add)
    waiter.start()
    busy = load(server, queries, ids, args.clients, args.seconds)
    out, _ = adder.communicate(timeout=600)
    waiter.join()
    return busy, json.loads(out), add_seconds


def print_report(args, lat: dict, quiet: dict, busy: dict, counts: dict) -> None:
    """The run's tables, as bench/RESULTS.md shows them."""
    print(
        f"date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
        f"{platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"index: {counts['before']:,} documents; {lat['n']} subject-line queries, k={args.k}")
    print("| measure | p50 ms | p99 ms |\n| --- | ---: | ---: |")
    print(f"| Index.query in process | {lat['in_process'][0]:.2f} | {lat['in_process'][1]:.2f} |")
    print(
        f"| GET /api/query (one client, keep-alive) | {lat['http'][0]:.2f} | {lat['http'][1]:.2f} |"
    )
    print(
        f"\nload: {args.clients} clients x {args.seconds:.0f} s, query/similar/explain in turn\n"
        "| run | requests | rps | p50 ms | p99 ms | errors |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for name, r in (("alone", quiet), (f"during add of {args.add:,}", busy)):
        print(
            f"| {name} | {r['requests']:,} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
            f"| {r['errors']} |"
        )
    print(
        f"\nadd: {counts['added']:,} added in {counts['add_seconds']:.1f} s while serving; stored "
        f"{counts['stored']:,} = {counts['before']:,} + {args.add:,} - {counts['lost']} lost; "
        f"the server then reported {counts['served']:,} documents (reopened without restart)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a 20 Newsgroups index (else built, fast)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--add", type=int, default=1000, help="documents added in the last run")
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()

    train, test = read_corpus(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="docret-bench-serve-"))
    try:
        built = args.db if args.db is not None else build_fast(train, work)
        db = work / "serve.db"  # the add writes to a copy
        shutil.copy(built, db)
        queries = [s for s in (subject(d["text"]) for d in test) if s][: args.queries]
        added = work / "added.jsonl"
        added.write_text(
            "".join(json.dumps({**d, "id": "added/" + d["id"]}) + "\n" for d in test[: args.add]),
            encoding="utf-8",
        )
        from docret.index import Index

        with Index.open(db) as index:
            ids = list(index.ids)
            queries = [q for q in queries if answerable(index, q)]
        server = Server(db)
        try:
            lat = latency(db, server, queries, args.k)
            quiet = load(server, queries, ids, args.clients, args.seconds)
            busy, report, add_seconds = load_while_adding(server, db, added, queries, ids, args)
            _, body = server.get(server.connect(), "/api/info")
            served = json.loads(body)["documents"]
        finally:
            server.stop()
        with Index.open(db) as index:
            stored = len(index.ids)
            lost = len({"added/" + d["id"] for d in test[: args.add]} - set(index.ids))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = {
        "before": len(ids),
        "added": len(report["added"]),
        "add_seconds": add_seconds,
        "stored": stored,
        "lost": lost,
        "served": served,
    }
    print_report(args, lat, quiet, busy, counts)


if __name__ == "__main__":
    main()

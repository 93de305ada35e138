"""Index the same corpus with two checkouts of docret, one after the other; compare time and codes.

Usage (from the repository root, with ../shared/corpora beside it):

    git worktree add ../baseline cec4a18
    python -m bench.compare_builds ../baseline .            # 20 Newsgroups train
    python -m bench.compare_builds ../baseline . --sample   # corpora/sample, whole CLI

Each build runs in a child process whose ``PYTHONPATH`` is that checkout, with ``seed=0`` and
every other setting at that checkout's defaults, so a speed change is timed against its
baseline in the same run. Afterwards the stored codes are compared: a change meant to leave
the model's arithmetic alone must give bitwise equal codes; so are the index's other parts
(tf-idf vectors, vocabulary, BM25's lexicon and counts, the fusion weights).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "20newsgroups"
SAMPLE = Path(__file__).resolve().parents[1] / "corpora" / "sample"
CHILD = """
import json, sys, time
from docret.index import Index
start = time.perf_counter()
index = Index.build(sys.argv[1], sys.argv[2], seed=0)
import docret
print(json.dumps({"seconds": time.perf_counter() - start, "epochs": index.last_build.epochs,
    "from": docret.__file__}))
"""


def stored_codes(db: Path) -> np.ndarray:
    """Every stored code, in storage order, as one flat float32 array."""
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "select c.code from documents d join codes c on c.id = d.id order by d.rowid"
    ).fetchall()
    conn.close()
    return np.frombuffer(b"".join(r[0] for r in rows), dtype="<f4")


def stored_rest(db: Path) -> dict[str, str]:
    """A digest of each other part of the index a build writes (vectors, vocabulary, BM25's
    lexicon and counts, the fusion weights), to compare across builds."""
    conn = sqlite3.connect(db)
    parts = {
        "vectors": "select v.indices, v.weights from documents d join vectors v on v.id = d.id "
        "order by d.rowid",
        "vocabulary": "select term, df, idf from vocabulary order by term_id",
        "lexicon": "select term from lexicon order by term_id",
        "term_counts": "select t.indices, t.counts from documents d join term_counts t "
        "on t.id = d.id order by d.rowid",
        "ranking": "select ranking from models",
    }
    out = {}
    for name, sql in parts.items():
        digest = hashlib.sha256()
        for row in conn.execute(sql):
            digest.update(repr(row).encode())
        out[name] = digest.hexdigest()
    conn.close()
    return out


def build(checkout: Path, corpus: Path, db: Path, whole_cli: bool) -> dict:
    # Run from inside the checkout: `python -m` and `python -c` put the working directory
    # first on the module path, ahead of PYTHONPATH.
    checkout = checkout.resolve()
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    if whole_cli:
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "docret", "-d", str(db), "index", str(corpus)]
        subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True)
        return {"seconds": time.perf_counter() - start, "epochs": "?"}
    cmd = [sys.executable, "-c", CHILD, str(corpus), str(db)]
    out = subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", type=Path, help="checkout to compare against")
    parser.add_argument("candidate", type=Path, help="checkout under test")
    parser.add_argument("--sample", action="store_true", help="corpora/sample via the CLI")
    parser.add_argument("--repeat", type=int, default=1, help="builds per checkout")
    args = parser.parse_args()
    print(
        f"python -m bench.compare_builds {args.baseline} {args.candidate}"
        f"{' --sample' if args.sample else ''} --repeat {args.repeat}\n"
        f"{date.today()} on {platform.machine()}, Python {platform.python_version()}"
    )
    work = Path(tempfile.mkdtemp())
    if args.sample:
        corpus = SAMPLE
    else:
        corpus = work / "train.jsonl"
        with gzip.open(SHARED / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
            docs = [d for d in map(json.loads, f) if d["split"] == "train"]
        corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    codes, seconds, rest = {}, {}, {}
    for name, checkout in (("baseline", args.baseline), ("candidate", args.candidate)):
        seconds[name] = []
        for i in range(args.repeat):
            db = work / f"{name}-{i}.db"
            r = build(checkout, corpus, db, args.sample)
            seconds[name].append(r["seconds"])
            where = r.get("from", checkout)
            print(f"{name} ({where}): {r['seconds']:.1f} s, {r['epochs']} epochs", flush=True)
        codes[name] = stored_codes(db)
        rest[name] = stored_rest(db)
    a, b = codes["baseline"], codes["candidate"]
    same = a.shape == b.shape and np.array_equal(a, b)
    diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("nan")
    ratio = min(seconds["baseline"]) / min(seconds["candidate"])
    print(f"speed-up (best of each) {ratio:.2f}x; codes bitwise equal: {same} (max diff {diff})")
    differ = [k for k in rest["baseline"] if rest["baseline"][k] != rest["candidate"][k]]
    print("the rest of the index equal:", "yes" if not differ else "no, " + ", ".join(differ))


if __name__ == "__main__":
    main()

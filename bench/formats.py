"""Reading speed of every file format docret reads, on files written for the purpose.

Usage (from the repository root, with docret[formats] and fpdf2 installed):

    python -m bench.formats                 # a few minutes on 2 cores
    python -m bench.formats --scale 0.2 --mbox-mb 5 --pdf-pages 50   # a quick look

For each format it writes a folder of realistic files (topic words from six subjects in
sentences, titles, authors, dates; PDFs of several pages; an mbox of many messages; a CSV of
many rows) and times :func:`docret.corpus.read_documents` over it, best of ``--repeat`` runs:
MB of input per second, documents per second and, for PDFs, pages per second. Plain UTF-8 text
is the baseline each format is compared with (the "x text" column: how many times slower per MB).
Then a large mailbox and a long PDF are read as a stream, with the peak memory Python allocated
while reading them (tracemalloc; the documents are dropped as they come).

The files are those of tests/format_helpers.py, whose ``write_mixed`` also writes the mixed
folder that tests/test_readers.py indexes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from tests.format_helpers import AUTHORS, TOPICS, TYPES, paragraph, write_mixed, write_pdf_pages


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(folder: Path, repeat: int) -> tuple[float, int, int]:
    """(best seconds, documents, pages) of reading ``folder``."""
    from docret.corpus import read_documents

    best, docs = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        docs = read_documents(folder).documents
        best = min(best, time.perf_counter() - start)
    pages = sum(int(d.metadata.get("pages", 0)) for d in docs)
    return best, len(docs), pages


def streaming(root: Path, mbox_mb: int, pdf_pages: int) -> list[tuple[str, float, float, float]]:
    """Large files: (what, input MB, seconds, peak MB allocated by Python while reading).

    The documents are iterated and dropped (``iter_documents``), so the peak shows what the
    reader itself holds: a reader that loaded the whole file would peak at its size or more.
    Time and peak come from two passes, the second traced by tracemalloc.
    """
    import tracemalloc

    from docret.corpus import iter_documents

    rng = random.Random(1)
    box_path = root / "big.mbox"
    # Written as text rather than through mailbox: building 25,000 message objects would take
    # longer than reading them.
    i = 0
    with box_path.open("w", encoding="utf-8") as f:
        while f.tell() < mbox_mb * 1e6:
            topic = list(TOPICS)[i % len(TOPICS)]
            body = "\n\n".join(paragraph(rng, topic, 3) for _ in range(2))
            f.write(
                f"From user{i}@example.org Mon Apr  1 09:00:00 2024\n"
                f"From: {AUTHORS[i % len(AUTHORS)]} <user{i}@example.org>\n"
                f"To: team@example.org\nSubject: Message {i}\n"
                f"Date: Mon, 01 Apr 2024 09:{i % 60:02d}:00 +0000\n"
                f"Content-Type: text/plain; charset=utf-8\n\n{body}\n\n"
            )
            i += 1
    pdf_path = root / "long.pdf"
    write_pdf_pages(
        pdf_path, "Long", "A. Writer", [paragraph(rng, "spaceflight", 12) for _ in range(pdf_pages)]
    )
    rows = []
    for what, path in ((f"mbox, {i:,} messages", box_path), (f"PDF, {pdf_pages} pages", pdf_path)):
        start = time.perf_counter()
        for _ in iter_documents(path):
            pass
        seconds = time.perf_counter() - start
        tracemalloc.start()  # a second pass: tracing slows Python's allocations several times
        for _ in iter_documents(path):
            pass
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        rows.append((what, path.stat().st_size / 1e6, seconds, peak))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every file count")
    parser.add_argument("--repeat", type=int, default=3, help="Best of this many reads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mbox-mb", type=int, default=20, help="Size of the large mailbox")
    parser.add_argument("--pdf-pages", type=int, default=500, help="Pages of the long PDF")
    args = parser.parse_args()
    per_type = max(4, int(100 * args.scale))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        write_mixed(root, per_type=per_type, seed=args.seed, pages=10)
        print(
            f"wrote {per_type} documents of each of {len(TYPES)} types "
            f"({_size(root) / 1e6:.1f} MB) in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
        rows = []
        for kind in TYPES:
            folder = root / kind
            seconds, docs, pages = measure(folder, args.repeat)
            mb = _size(folder) / 1e6
            rows.append((kind, mb, docs, pages, seconds))
        text_rate = next(mb / s for kind, mb, _, _, s in rows if kind == "txt")
        print(f"# python -m bench.formats --scale {args.scale} --repeat {args.repeat}")
        print(
            f"# {dt.date.today()} {platform.machine()} {platform.processor() or ''} "
            f"python {platform.python_version()}"
        )
        print("| format | files MB | documents | MB/s | documents/s | pages/s | x text |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind, mb, docs, pages, seconds in rows:
            rate = mb / seconds
            print(
                f"| {kind} | {mb:.2f} | {docs} | {rate:.2f} | {docs / seconds:.0f} | "
                f"{f'{pages / seconds:.0f}' if pages else '-'} | {text_rate / rate:.1f} |"
            )
        print("\n| large file | MB | seconds | MB/s | peak MB held while reading |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for what, mb, seconds, peak in streaming(root, args.mbox_mb, args.pdf_pages):
            print(f"| {what} | {mb:.1f} | {seconds:.1f} | {mb / seconds:.2f} | {peak:.1f} |")


if __name__ == "__main__":
    main()

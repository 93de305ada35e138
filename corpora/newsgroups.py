"""Convert the unpacked 20 Newsgroups "bydate" tarball into docret's JSON-lines format.

Download ``20news-bydate.tar.gz`` from http://qwone.com/~jason/20Newsgroups/, unpack it, then::

    python corpora/newsgroups.py 20news-bydate 20news.jsonl.gz

``20news-bydate`` is the folder that holds ``20news-bydate-train/`` and ``20news-bydate-test/``
(``tar xzf`` of the tarball creates those two folders in the current directory, so pass ``.`` if
you unpacked it there). Each output line is::

    {"id": "<split>/<label>/<file>", "text": str, "labels": [label], "split": "train"|"test"}

The text is the file's raw bytes decoded as latin-1 (lossless: headers, signatures and quoted
replies are kept). Lines are ordered by split (train first), label, then article number.
Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

SPLITS = ("train", "test")


def _file_key(path: Path) -> tuple[int, int | str]:
    """Sort article files numerically when their names are numbers (as in the tarball)."""
    return (0, int(path.name)) if path.name.isdigit() else (1, path.name)


def find_split_dirs(root: Path) -> dict[str, Path]:
    """Return ``{"train": dir, "test": dir}`` for the split folders found under ``root``.

    Raises FileNotFoundError when neither ``20news-bydate-train`` nor ``20news-bydate-test`` is
    there.
    """
    found = {s: root / f"20news-bydate-{s}" for s in SPLITS}
    found = {s: d for s, d in found.items() if d.is_dir()}
    if not found:
        raise FileNotFoundError(
            f"{root} holds neither 20news-bydate-train/ nor 20news-bydate-test/; "
            "pass the folder you unpacked 20news-bydate.tar.gz into"
        )
    return found


def iter_documents(root: Path, *, short_ids: bool = False) -> Iterator[dict[str, object]]:
    """Yield one docret record per article under ``root``.

    With ``short_ids`` the id is ``<label>/<file>`` (the ids of ``../shared/corpora/20newsgroups``)
    instead of ``<split>/<label>/<file>``.
    """
    for split, split_dir in find_split_dirs(root).items():
        for label_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            label = label_dir.name
            for path in sorted((p for p in label_dir.iterdir() if p.is_file()), key=_file_key):
                doc_id = f"{label}/{path.name}" if short_ids else f"{split}/{label}/{path.name}"
                yield {
                    "id": doc_id,
                    "text": path.read_bytes().decode("latin-1"),
                    "labels": [label],
                    "split": split,
                }


def open_output(path: Path) -> IO[str]:
    """Open ``path`` for writing UTF-8 text; gzip it (reproducibly, mtime 0) if it ends in .gz."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(path, "wb", mtime=0), encoding="utf-8", newline="\n")
    return path.open("w", encoding="utf-8", newline="\n")


def write_jsonl(records: Iterator[dict[str, object]], out: Path) -> dict[str, int]:
    """Write records as JSON lines to ``out``; return the number written per split."""
    counts: dict[str, int] = {}
    with open_output(out) as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            split = str(record.get("split", ""))
            counts[split] = counts.get(split, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=(
            "Convert the unpacked 20news-bydate tarball (20news-bydate-train/ and "
            "20news-bydate-test/) into docret JSON lines."
        )
    )
    parser.add_argument(
        "root", type=Path, help="folder holding 20news-bydate-train/ and 20news-bydate-test/"
    )
    parser.add_argument("out", type=Path, help="output file: .jsonl, or .jsonl.gz to gzip it")
    parser.add_argument(
        "--short-ids",
        action="store_true",
        help="use '<label>/<file>' ids, as in ../shared/corpora/20newsgroups, "
        "instead of '<split>/<label>/<file>'",
    )
    args = parser.parse_args(argv)
    try:
        find_split_dirs(args.root)  # fail before creating the output file
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = write_jsonl(iter_documents(args.root, short_ids=args.short_ids), args.out)
    summary = ", ".join(f"{split} {n}" for split, n in counts.items()) or "none"
    print(f"wrote {sum(counts.values())} documents ({summary}) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

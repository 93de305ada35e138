"""Convert the Reuters-21578 SGML distribution into docret's JSON-lines format.

Download ``reuters21578.tar.gz`` from the UCI KDD archive
(https://kdd.ics.uci.edu/databases/reuters21578/reuters21578.html; also in the UCI Machine
Learning Repository as "Reuters-21578 Text Categorization Collection"), unpack it into a folder,
then::

    python corpora/reuters.py reuters21578/ reuters.jsonl.gz

The 22 files ``reut2-000.sgm`` ... ``reut2-021.sgm`` hold 21,578 ``<REUTERS ...>`` blocks. Each
kept block becomes one line::

    {"id": NEWID, "text": TITLE + blank line + BODY, "labels": [TOPICS/D, ...],
     "split": "train"|"test"}

The split comes from the ``LEWISSPLIT`` attribute (TRAIN/TEST); ``NOT-USED`` documents are
skipped, and so are documents without topics unless ``--keep-unlabelled`` is given (they then get
``"labels": []``). ``--modapte`` keeps only ``TOPICS="YES"`` documents, which with LEWISSPLIT gives
the standard "ModApte" train/test split. Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

REUTERS_RE = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL)
ATTR_RE = re.compile(r'([A-Z]+)="([^"]*)"')
D_RE = re.compile(r"<D>(.*?)</D>", re.DOTALL)
TAG_RE = re.compile(r"<[^>]+>")
# Control characters used as markers in the distribution (&#2; &#3; ...), except tab and newline.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SPLITS = {"TRAIN": "train", "TEST": "test"}


def _element(block: str, tag: str) -> str | None:
    """Return the raw content of the first ``<tag ...>...</tag>`` in ``block``, or None."""
    match = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}>", block, re.DOTALL)
    return match.group(1) if match else None


def _clean(raw: str) -> str:
    """Unescape SGML entities, drop control characters and surrounding whitespace."""
    return CONTROL_RE.sub("", html.unescape(raw)).strip()


def parse_sgml(
    text: str, *, keep_unlabelled: bool = False, modapte: bool = False
) -> Iterator[dict[str, object]]:
    """Yield docret records for the ``<REUTERS>`` blocks of one .sgm file's text."""
    for match in REUTERS_RE.finditer(text):
        attrs = dict(ATTR_RE.findall(match.group(1)))
        split = SPLITS.get(attrs.get("LEWISSPLIT", ""))
        if split is None:  # NOT-USED, or missing
            continue
        if modapte and attrs.get("TOPICS") != "YES":
            continue
        block = match.group(2)
        labels = [_clean(d) for d in D_RE.findall(_element(block, "TOPICS") or "")]
        if not labels and not keep_unlabelled:
            continue
        title = _clean(_element(block, "TITLE") or "")
        body = _element(block, "BODY")
        if body is None:
            # TYPE="BRIEF" has a title only; TYPE="UNPROC" has untagged text inside <TEXT>.
            body = "" if title else TAG_RE.sub(" ", _element(block, "TEXT") or "")
        body = _clean(body)
        doc_text = f"{title}\n\n{body}" if title and body else title or body
        if not doc_text:
            continue
        yield {
            "id": attrs.get("NEWID", ""),
            "text": doc_text,
            "labels": labels,
            "split": split,
        }


def find_sgm_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to their sorted ``*.sgm`` files; keep files as given.

    Raises FileNotFoundError when no .sgm file is found.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.sgm")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    if not files:
        raise FileNotFoundError("no .sgm files found; pass the unpacked reuters21578 folder")
    return files


def iter_documents(
    files: Iterable[Path], *, keep_unlabelled: bool = False, modapte: bool = False
) -> Iterator[dict[str, object]]:
    """Yield the records of every file, decoded as latin-1 (the files are not all valid UTF-8)."""
    for path in files:
        text = path.read_bytes().decode("latin-1")
        yield from parse_sgml(text, keep_unlabelled=keep_unlabelled, modapte=modapte)


def open_output(path: Path) -> IO[str]:
    """Open ``path`` for writing UTF-8 text; gzip it (reproducibly, mtime 0) if it ends in .gz."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(path, "wb", mtime=0), encoding="utf-8", newline="\n")
    return path.open("w", encoding="utf-8", newline="\n")


def write_jsonl(records: Iterable[dict[str, object]], out: Path) -> dict[str, int]:
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
        description="Convert Reuters-21578 SGML files (reut2-*.sgm) into docret JSON lines."
    )
    parser.add_argument(
        "inputs", nargs="+", type=Path, help="the unpacked reuters21578 folder, or .sgm files"
    )
    parser.add_argument("out", type=Path, help="output file: .jsonl, or .jsonl.gz to gzip it")
    parser.add_argument(
        "--keep-unlabelled",
        action="store_true",
        help="also write documents without topics (with an empty labels list)",
    )
    parser.add_argument(
        "--modapte",
        action="store_true",
        help='keep only TOPICS="YES" documents (the ModApte split)',
    )
    args = parser.parse_args(argv)
    try:
        files = find_sgm_files(args.inputs)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    records = iter_documents(files, keep_unlabelled=args.keep_unlabelled, modapte=args.modapte)
    counts = write_jsonl(records, args.out)
    summary = ", ".join(f"{split} {n}" for split, n in counts.items()) or "none"
    total = sum(counts.values())
    print(f"wrote {total} documents ({summary}) from {len(files)} .sgm files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

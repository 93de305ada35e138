"""Read documents from a folder, a single file, or a JSON-lines file.

Ids are stable and human-readable: a file's path relative to the folder given, or the ``id``
field of a JSON line. A file that sits exactly one folder deep (``<label>/<file>``, the layout
20 Newsgroups ships in) gets that folder's name as its label.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docret.errors import CorpusError

DEFAULT_GLOBS: tuple[str, ...] = ("*.txt", "*.md")
TITLE_MAX_CHARS = 200
# A NUL byte in the first block is the cheap, reliable sign of a binary file.
BINARY_SNIFF_BYTES = 8192
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")


@dataclass(frozen=True)
class Document:
    """One document as docret stores it."""

    id: str
    text: str
    title: str = ""
    labels: tuple[str, ...] = ()
    path: str | None = None
    split: str | None = None

    @property
    def content_hash(self) -> str:
        """md5 of the text, used to tell whether a document changed."""
        return hashlib.md5(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Skipped:
    """A file or line that could not be read, and why."""

    source: str
    reason: str


@dataclass
class ReadResult:
    """Documents read from a path, plus what was skipped on the way."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def title_of(text: str) -> str:
    """The first non-empty line of ``text``, trimmed to a readable length.

    Mail and news messages start with headers (``From: ...``); for those the ``Subject:``
    header of the first block is the title a person expects, so it is taken instead.
    """
    lines = text.lstrip().splitlines()
    if lines and _HEADER.match(lines[0]):
        for line in lines:
            if not line.strip():
                break
            if line.lower().startswith("subject:") and line[8:].strip():
                return line[8:].strip()[:TITLE_MAX_CHARS]
    for line in lines:
        line = line.strip()
        if line:
            return line[:TITLE_MAX_CHARS]
    return ""


def body_of(text: str) -> str:
    """The text without its title line, or without the header block of a mail or news message."""
    stripped = text.strip()
    if _HEADER.match(stripped):
        head, sep, rest = stripped.partition("\n\n")
        if sep and rest.strip():
            return rest.strip()
    first, _, rest = stripped.partition("\n")
    return rest.strip() or first


def decode(data: bytes) -> str:
    """Decode bytes as UTF-8 (a BOM is dropped), falling back to latin-1, which never fails."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def is_jsonl(path: Path) -> bool:
    """Whether ``path`` names a JSON-lines file docret reads as a collection."""
    name = path.name.lower()
    return name.endswith(".jsonl") or name.endswith(".jsonl.gz")


def iter_documents(
    path: str | Path, globs: Sequence[str] | None = None
) -> Iterator[Document | Skipped]:
    """Yield every document under ``path``, or a :class:`Skipped` record for what cannot be read.

    ``path`` is a folder (searched recursively for ``globs``, hidden files and folders left out),
    a single text file, or a ``.jsonl``/``.jsonl.gz`` file of ``{"id", "text", "labels"?}``
    objects. Raises :class:`CorpusError` when the path does not exist.
    """
    root = Path(path)
    if not root.exists():
        raise CorpusError(f"Path does not exist: {path}")
    if root.is_dir():
        yield from _read_files(root, list_files(root, globs))
    elif is_jsonl(root):
        yield from _iter_jsonl(root)
    else:
        yield _read_file(root, root.name, labels=())


def read_documents(
    path: str | Path,
    globs: Sequence[str] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ReadResult:
    """Read everything under ``path`` (see :func:`iter_documents`) into a :class:`ReadResult`.

    Raises :class:`CorpusError` when nothing readable is found. ``on_skip`` is called once for
    each skipped file or line, so that a caller can warn as it goes; ``on_progress`` with the
    number of items read so far and the total (known for folders, None for JSON lines).
    """
    result = ReadResult()
    seen: set[str] = set()
    root = Path(path)
    items, total = iter_documents(path, globs), None
    if root.is_dir():  # list once, to know the total
        files = list_files(root, globs)
        items, total = _read_files(root, files), len(files)
    for count, item in enumerate(items, start=1):
        if on_progress is not None and (count % 200 == 0 or count == total):
            on_progress(count, total)
        if isinstance(item, Document) and item.id in seen:
            item = Skipped(item.id, "duplicate id")
        if isinstance(item, Skipped):
            result.skipped.append(item)
            if on_skip is not None:
                on_skip(item)
            continue
        seen.add(item.id)
        result.documents.append(item)
    if not result.documents:
        patterns = ", ".join(globs or DEFAULT_GLOBS)
        detail = (
            f"{len(result.skipped)} skipped" if result.skipped else f"no files match {patterns}"
        )
        raise CorpusError(f"No readable documents in {path} ({detail})")
    return result


def list_files(root: Path, globs: Sequence[str] | None = None) -> list[Path]:
    """The files under folder ``root`` that match ``globs``, hidden ones left out, sorted."""
    files: set[Path] = set()
    for pattern in globs or DEFAULT_GLOBS:
        for p in root.rglob(pattern):
            rel = p.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not p.is_file():
                continue
            files.add(p)
    return sorted(files)


def _read_files(root: Path, files: Sequence[Path]) -> Iterator[Document | Skipped]:
    for p in files:
        rel = p.relative_to(root)
        labels = (rel.parts[0],) if len(rel.parts) == 2 else ()
        yield _read_file(p, rel.as_posix(), labels)


def _read_file(path: Path, doc_id: str, labels: tuple[str, ...]) -> Document | Skipped:
    try:
        data = path.read_bytes()
    except OSError as e:
        return Skipped(doc_id, f"unreadable ({e.strerror or e})")
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return Skipped(doc_id, "binary file")
    text = decode(data)
    if not text.strip():
        return Skipped(doc_id, "empty")
    return Document(
        id=doc_id, text=text, title=title_of(text), labels=labels, path=str(path.resolve())
    )


def _iter_jsonl(path: Path) -> Iterator[Document | Skipped]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                yield _parse_json_line(decode(raw), f"{path.name}:{lineno}")
    except (OSError, EOFError) as e:
        yield Skipped(path.name, f"unreadable ({e})")


def _parse_json_line(line: str, source: str) -> Document | Skipped:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return Skipped(source, "not valid JSON")
    if not isinstance(obj, dict):
        return Skipped(source, "not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skipped(source, "no text")
    doc_id = obj.get("id")
    if doc_id is None or isinstance(doc_id, (dict, list)):
        return Skipped(source, "no id")
    labels = obj.get("labels", obj.get("label", ()))
    if isinstance(labels, str):
        labels = (labels,)
    split = obj.get("split")
    title = obj.get("title")
    return Document(
        id=str(doc_id),
        text=text,
        title=(
            title.strip()[:TITLE_MAX_CHARS]
            if isinstance(title, str) and title.strip()
            else title_of(text)
        ),
        labels=tuple(str(label) for label in labels or ()),
        path=None,
        split=str(split) if split is not None else None,
    )

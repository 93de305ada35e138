"""What every reader shares: the document and skip records, read options, text decoding, titles.

A reader is a small module with a ``READER`` (:class:`Reader`): the extensions it claims, the
modules it needs (an optional extra), an optional content sniffer, and a ``read`` function that
yields :class:`Document` or :class:`Skipped` records for one file. Readers import their library
inside ``read``, so listing them costs nothing and a missing library only affects its own files.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

TITLE_MAX_CHARS = 200
# A NUL byte in the first block is the cheap, reliable sign of a binary file.
SNIFF_BYTES = 8192
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Document:
    """One document as docret stores it.

    ``metadata`` holds what the format says about the document beyond its text and title:
    ``type`` always ("pdf", "html", "email", ...), and ``author``, ``date``, ``pages``, ``from``
    ... where the format has them (JSON-able values only).
    """

    id: str
    text: str
    title: str = ""
    labels: tuple[str, ...] = ()
    path: str | None = None
    split: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """md5 of the text, and of the title and metadata where a format supplies them.

        A plain document (title from its first line, metadata only its type, which follows
        from the file name and so from the id) hashes as its text alone, as it always did, so
        indexes built before metadata existed do not see every document as changed.
        """
        h = hashlib.md5(self.text.encode("utf-8"))
        extra = {k: v for k, v in self.metadata.items() if k != "type"}
        if self.title and self.title != title_of(self.text):
            extra["title"] = self.title
        if extra:
            h.update(b"\x00" + json.dumps(extra, sort_keys=True, default=str).encode("utf-8"))
        return h.hexdigest()


@dataclass(frozen=True)
class Skipped:
    """A file, message or line that could not be read: ``reason`` groups the summary,
    ``detail`` says more about this one."""

    source: str
    reason: str
    detail: str = ""

    @property
    def message(self) -> str:
        """Reason and detail as one line."""
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


@dataclass(frozen=True)
class ReadOptions:
    """How to read: columns of tables and JSON lines, page splitting, links, strictness."""

    text_fields: tuple[str, ...] = ()  # () means "text"; several are joined by a blank line
    title_field: str | None = None  # None means "title"
    id_field: str | None = None  # None means "id" (JSON lines) or the row number (tables)
    label_field: str | None = None  # None means "labels", else "label"
    split_pages: bool = False  # PDFs: one document per page, ids "file.pdf#p3"
    follow_links: bool = False  # follow symbolic links that lead out of the folder
    strict: bool = False  # anything skipped is an error and nothing is written


@dataclass(frozen=True)
class Source:
    """One file to read: where it is, the id its documents derive from, its folder label."""

    path: Path
    id: str
    labels: tuple[str, ...] = ()
    in_folder: bool = False  # read as part of a folder (ids of its records get the file's id)

    @cached_property
    def resolved(self) -> str:
        """The file's absolute path, links resolved (stored as each document's path)."""
        return str(self.path.resolve())

    def sub_id(self, key: object) -> str:
        """The id of one record inside the file: ``file#key``."""
        return f"{self.id}#{key}"


ReadFunction = Callable[[Source, ReadOptions], Iterator["Document | Skipped"]]


@dataclass(frozen=True)
class Reader:
    """A file format docret reads, as registered in :mod:`docret.readers`."""

    name: str  # the metadata type, e.g. "pdf"
    extensions: tuple[str, ...]  # lower case, with the dot; ".jsonl.gz" style allowed
    read: ReadFunction
    requires: tuple[str, ...] = ()  # importable modules; missing ones skip the file
    extra: str | None = None  # the pip extra that installs ``requires``
    sniff: Callable[[Path, bytes], bool] | None = None  # recognise a file by its first bytes
    label: str = ""  # how messages name the format ("PDF"); defaults to the name


class MissingLibrary(Exception):
    """A library a reader needs is not installed."""


def decode(data: bytes) -> str:
    """Text of ``data``: a byte-order mark decides (UTF-8, UTF-16, UTF-32), else UTF-8 if it
    decodes, else the encoding charset-normalizer detects (Windows-1252 when it cannot tell)."""
    encoding = detect_encoding(data)
    return data.decode(encoding, errors="replace")


def detect_encoding(sample: bytes) -> str:
    """The encoding of ``sample`` (the whole text or its start), as :func:`decode` decides it."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    utf16 = bomless_utf16(sample)
    if utf16 is not None:  # before UTF-8, which its NUL bytes would pass
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        # A sample cut inside a multi-byte character still counts as UTF-8.
        if e.start >= len(sample) - 3 and e.reason == "unexpected end of data":
            return "utf-8"
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency, but never a reason to fail
        return "cp1252"
    # Only encodings that keep ASCII as it is: UTF-16/32 without a byte-order mark would hold
    # NUL bytes (a binary file), and EBCDIC code pages win on short texts where none fits.
    matches = [m for m in from_bytes(sample[:262_144]) if _ascii_compatible(m.encoding)]
    if not matches:
        return "cp1252"
    best = min(matches, key=lambda m: (m.chaos, -m.coherence, m.encoding != "cp1252"))
    # On a short text many code pages decode equally cleanly and no language is recognised:
    # then Windows-1252 (what docret read before) wins if it gives Western text.
    if best.coherence == 0 and _western(sample):
        return "cp1252"
    return best.encoding


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "Az09 .\n".encode(encoding) == b"Az09 .\n"
    except (LookupError, UnicodeError):
        return False


# Non-ASCII characters that Western text in Windows-1252 commonly holds besides letters.
_WESTERN_MARKS = set("€‚„…†‡‰‹›‘’“”•–—™¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿×÷")


def _western(sample: bytes) -> bool:
    """Whether ``sample`` reads as Windows-1252 text: its non-ASCII characters are accented
    letters and common marks, and most letters are ASCII (Cyrillic in cp1251, read as
    cp1252, would be all accented letters)."""
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    high = [c for c in text if ord(c) > 127]
    if any(not (c.isalpha() or c in _WESTERN_MARKS) for c in high):
        return False
    letters = sum(1 for c in text if c.isalpha())
    return sum(1 for c in high if c.isalpha()) <= 0.3 * letters


def has_bom(head: bytes) -> bool:
    """Whether ``head`` starts with a Unicode byte-order mark."""
    return any(head.startswith(bom) for bom, _ in _BOMS)


def looks_binary(head: bytes) -> bool:
    """A NUL byte without a byte-order mark: not text (UTF-16 with a BOM is text, and so is
    UTF-16 without one that :func:`bomless_utf16` recognises)."""
    return b"\x00" in head and not has_bom(head) and bomless_utf16(head) is None


UTF16_SNIFF = 65_536  # bytes of a file that decide whether it is UTF-16 without a BOM
UTF16_NULS = 0.3  # share of code units with a NUL high byte: mostly Latin-script text
UTF16_PRINTABLE = 0.95  # share of decoded characters that are printable or whitespace


def bomless_utf16(sample: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``sample`` reads as UTF-16 text without a
    byte-order mark, else None.

    Text in a Latin script has a NUL high byte in most of its UTF-16 code units: at odd
    positions in little-endian, at even ones in big-endian, and (almost) none at the other
    parity. A binary file's NUL bytes fall at both. The decoded text must then be almost all
    printable characters and whitespace.
    """
    head = sample[:UTF16_SNIFF]
    head = head[: len(head) - len(head) % 2]
    units = len(head) // 2
    if units < 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= UTF16_NULS * units and even <= 0.01 * units:
        encoding = "utf-16-le"
    elif even >= UTF16_NULS * units and odd <= 0.01 * units:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as e:  # a surrogate pair cut at the sample's end still counts
        if e.start < len(head) - 2:
            return None
        text = head[: e.start].decode(encoding)
    printable = sum(1 for c in text if c.isprintable() or c in "\t\n\r\f")
    return encoding if text and printable >= UTF16_PRINTABLE * len(text) else None


def clean_title(value: object) -> str:
    """A title from metadata, trimmed; "" for anything that is not a non-blank string."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:TITLE_MAX_CHARS]


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


def tidy(text: str) -> str:
    """Text with spaces inside lines collapsed, lines trimmed and blank runs cut to one line."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def make_document(
    source: Source,
    text: str,
    kind: str,
    *,
    doc_id: str | None = None,
    title: str = "",
    labels: tuple[str, ...] | None = None,
    split: str | None = None,
    **metadata: Any,
) -> Document | Skipped:
    """A :class:`Document` of ``source`` (or :class:`Skipped` "empty" when there is no text).

    Metadata values that are None or empty are left out.
    """
    doc_id = doc_id if doc_id is not None else source.id
    if not text.strip():
        return Skipped(doc_id, "empty")
    meta = {"type": kind} | {k: v for k, v in metadata.items() if v not in (None, "", [], ())}
    return Document(
        id=doc_id,
        text=text,
        title=clean_title(title) or title_of(text),
        labels=source.labels if labels is None else labels,
        path=source.resolved,
        split=split,
        metadata=meta,
    )

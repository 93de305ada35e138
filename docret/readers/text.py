"""Plain text files, in whatever encoding they came in (see :func:`~docret.readers.base.decode`)."""

from __future__ import annotations

from collections.abc import Iterator

from docret.readers.base import (
    SNIFF_BYTES,
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    decode,
    looks_binary,
    make_document,
)


def file_text(source: Source) -> str | None:
    """The whole file decoded, or None when it looks binary (a NUL byte and no BOM)."""
    data = source.path.read_bytes()
    return None if looks_binary(data[:SNIFF_BYTES]) else decode(data)


def read_text(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document: the whole file, decoded; its first line (or Subject: header) is the title."""
    text = file_text(source)
    yield Skipped(source.id, "binary file") if text is None else make_document(source, text, "text")


READER = Reader(
    name="text",
    extensions=(".txt", ".text", ".rst", ".org", ".log"),
    read=read_text,
    label="text",
)

"""Plain text files, in whatever encoding they came in (see :func:`~docret.readers.base.decode`)."""

from __future__ import annotations

from collections.abc import Iterator

from docret.readers.base import (
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    decode,
    looks_binary,
    make_document,
)


def read_text(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document: the whole file, decoded; its first line (or Subject: header) is the title."""
    data = source.path.read_bytes()
    if looks_binary(data[:8192]):
        yield Skipped(source.id, "binary file")
        return
    yield make_document(source, decode(data), "text")


READER = Reader(
    name="text",
    extensions=(".txt", ".text", ".rst", ".org", ".log"),
    read=read_text,
    label="text",
)

"""Rich Text Format through striprtf: the text without control words and groups."""

from __future__ import annotations

from collections.abc import Iterator

from docret.readers.base import Document, Reader, ReadOptions, Skipped, Source, make_document, tidy


def read_rtf(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document; RTF is 7-bit text whose other characters are escapes, so latin-1 bytes
    pass through to striprtf unchanged (it decodes the escapes itself)."""
    from striprtf.striprtf import rtf_to_text

    raw = source.path.read_bytes().decode("latin-1")
    yield make_document(source, tidy(rtf_to_text(raw, errors="replace")), "rtf")


READER = Reader(
    name="rtf",
    extensions=(".rtf",),
    read=read_rtf,
    requires=("striprtf",),
    extra="formats",
    sniff=lambda path, head: head.startswith(b"{\\rtf"),
    label="RTF",
)

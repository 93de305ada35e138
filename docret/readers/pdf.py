"""PDF through pypdf: the text layer of each page, the title and author from the metadata.

pypdf reads the cross-reference table and then one page at a time, so a long PDF is not held in
memory whole. A PDF with no text on any page (a scan) is skipped with a warning saying so.
With ``--split pages`` every page with text is a document of its own, ``paper.pdf#p3``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from docret.readers.base import (
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    clean_title,
    make_document,
    title_of,
)

# Titles that PDF writers put in by default and that say nothing about the document.
_EMPTY_TITLES = {"untitled", "microsoft word", "title"}


def _pages(reader) -> Iterator[tuple[int, str]]:
    for number, page in enumerate(reader.pages, start=1):
        yield number, (page.extract_text() or "").replace("\x00", "")


def read_pdf(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """The text of every page, as one document or (``split_pages``) one per page."""
    from pypdf import PdfReader

    # pypdf logs each piece of damage it repairs: a file docret cannot read gets one skip line.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    with source.path.open("rb") as f:
        reader = PdfReader(f)
        if reader.is_encrypted and not reader.decrypt(""):
            yield Skipped(source.id, "encrypted PDF", "needs a password")
            return
        info = reader.metadata or {}
        meta = {
            "author": clean_title(info.get("/Author")),
            "date": _date(info.get("/CreationDate")),
        }
        title = clean_title(info.get("/Title"))
        if title.lower() in _EMPTY_TITLES or title.lower().endswith((".doc", ".docx", ".pdf")):
            title = ""
        total = len(reader.pages)
        if options.split_pages:
            found = False
            for number, text in _pages(reader):
                if not text.strip():
                    continue
                found = True
                yield make_document(
                    source,
                    text,
                    "pdf",
                    doc_id=source.sub_id(f"p{number}"),
                    title=f"{title or title_of(text)} (page {number})",
                    page=number,
                    pages=total,
                    **meta,
                )
            if not found:
                yield _no_text(source, total)
            return
        text = "\n\n".join(t for _, t in _pages(reader) if t.strip())
        if not text.strip():
            yield _no_text(source, total)
            return
        yield make_document(source, text, "pdf", title=title, pages=total, **meta)


def _no_text(source: Source, pages: int) -> Skipped:
    return Skipped(source.id, "PDF without a text layer (a scan?)", f"{pages} pages")


def _date(value: object) -> str | None:
    """A PDF date ("D:20240131120000+01'00'") as ISO 8601, or None."""
    if not isinstance(value, str) or not value.startswith("D:") or len(value) < 10:
        return None
    digits = value[2:16]
    for fmt, size in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        try:
            return datetime.strptime(digits[:size], fmt).isoformat()
        except ValueError:
            continue
    return None


def sniff(path, head: bytes) -> bool:
    """A PDF starts with ``%PDF-`` (a text that merely mentions it further on is no PDF)."""
    return head.lstrip(b" \t\r\n\x00").startswith(b"%PDF-")


READER = Reader(
    name="pdf",
    extensions=(".pdf",),
    read=read_pdf,
    requires=("pypdf",),
    extra="formats",
    sniff=sniff,
    label="PDF",
)

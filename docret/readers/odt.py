"""OpenDocument text (.odt) with the standard library: an ODF file is a zip of XML.

``content.xml`` is read as a stream of elements (paragraphs and headings become lines, tables
rows); ``meta.xml`` gives title, author and date.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from docret.readers.base import (
    Document,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    make_document,
)

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DC = "http://purl.org/dc/elements/1.1/"
META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_LINES = {f"{{{TEXT}}}p", f"{{{TEXT}}}h", f"{{{TABLE}}}table-row"}


def _inline(el) -> str:
    """Text of a paragraph, with ODF's space, tab and line-break elements expanded."""
    out = [el.text or ""]
    for child in el:
        tag = child.tag
        if tag == f"{{{TEXT}}}s":
            out.append(" " * int(child.get(f"{{{TEXT}}}c", "1")))
        elif tag == f"{{{TEXT}}}tab":
            out.append("\t")
        elif tag == f"{{{TEXT}}}line-break":
            out.append("\n")
        elif tag != f"{{{TEXT}}}note":  # footnotes would break the sentence they sit in
            out.append(_inline(child))
        out.append(child.tail or "")
    return "".join(out)


def odf_text(stream) -> tuple[str, str]:
    """(text, first heading) of an ODF ``content.xml`` stream."""
    lines: list[str] = []
    heading = ""
    depth = 0  # paragraphs inside a table row or a note are not lines of their own
    for event, el in ElementTree.iterparse(stream, events=("start", "end")):
        if el.tag == f"{{{TEXT}}}note":
            depth += 1 if event == "start" else -1
            continue
        if el.tag == f"{{{TABLE}}}table-row":
            depth += 1 if event == "start" else -1
            if event == "end":
                cells = [" ".join(_inline(p).split()) for p in el.iter(f"{{{TEXT}}}p")]
                lines.append(" ".join(c for c in cells if c))
                el.clear()
            continue
        if event != "end" or depth or el.tag not in _LINES:
            continue
        line = _inline(el).strip()
        if line and not heading and el.tag == f"{{{TEXT}}}h":
            heading = line
        lines.append(line)
        el.clear()
    return "\n".join(lines).strip(), heading


def odf_meta(z: zipfile.ZipFile) -> dict[str, str]:
    """Title, author and date from ``meta.xml`` (empty where absent)."""
    if "meta.xml" not in z.namelist():
        return {}
    root = ElementTree.fromstring(z.read("meta.xml"))
    found = {}
    for key, tag in (
        ("title", f"{{{DC}}}title"),
        ("author", f"{{{DC}}}creator"),
        ("author", f"{{{META}}}initial-creator"),
        ("date", f"{{{META}}}creation-date"),
        ("date", f"{{{DC}}}date"),
    ):
        el = root.find(f".//{tag}")
        if key not in found and el is not None and (el.text or "").strip():
            found[key] = el.text.strip()
    return found


def read_odt(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document: every paragraph, heading and table row as a line."""
    with zipfile.ZipFile(source.path) as z:
        with z.open("content.xml") as f:
            text, heading = odf_text(f)
        meta = odf_meta(z)
    yield make_document(
        source,
        text,
        "odt",
        title=meta.get("title") or heading,
        author=meta.get("author"),
        date=meta.get("date"),
    )


def sniff(path, head: bytes) -> bool:
    """ODF zips start with an uncompressed ``mimetype`` member naming the type."""
    return (
        head.startswith(b"PK\x03\x04") and b"application/vnd.oasis.opendocument.text" in head[:200]
    )


READER = Reader(
    name="odt",
    extensions=(".odt",),
    read=read_odt,
    sniff=sniff,
    label="OpenDocument",
)

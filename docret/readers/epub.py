"""EPUB e-books: the chapters in reading order (the OPF spine), each through the HTML reader.

An EPUB is a zip: ``META-INF/container.xml`` names the package file, whose metadata gives title,
author and date and whose spine lists the chapters. Chapters are read one at a time.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from docret.readers.base import Document, Reader, ReadOptions, Skipped, Source, make_document
from docret.readers.html import html_text, parse

CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"


def read_epub(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document per book: every chapter of the spine, in order."""
    with zipfile.ZipFile(source.path) as z:
        container = ElementTree.fromstring(z.read("META-INF/container.xml"))
        rootfile = container.find(f".//{{{CONTAINER}}}rootfile")
        if rootfile is None:
            yield Skipped(source.id, "damaged EPUB", "no package file in container.xml")
            return
        opf_path = rootfile.get("full-path", "")
        package = ElementTree.fromstring(z.read(opf_path))
        base = posixpath.dirname(opf_path)
        manifest = {
            item.get("id"): posixpath.normpath(posixpath.join(base, item.get("href", "")))
            for item in package.iter(f"{{{OPF}}}item")
        }
        chapters = []
        names = set(z.namelist())
        for ref in package.iter(f"{{{OPF}}}itemref"):
            href = manifest.get(ref.get("idref"))
            if href in names:
                chapters.append(html_text(parse(z.read(href))))

    def dc(name: str) -> str | None:
        el = package.find(f".//{{{DC}}}{name}")
        return el.text.strip() if el is not None and el.text and el.text.strip() else None

    yield make_document(
        source,
        "\n\n".join(c for c in chapters if c),
        "epub",
        title=dc("title") or "",
        author=dc("creator"),
        date=dc("date"),
        language=dc("language"),
    )


def sniff(path, head: bytes) -> bool:
    """EPUB zips start with an uncompressed ``mimetype`` member: application/epub+zip."""
    return head.startswith(b"PK\x03\x04") and b"application/epub+zip" in head[:200]


READER = Reader(
    name="epub",
    extensions=(".epub",),
    read=read_epub,
    requires=("lxml",),
    extra="formats",
    sniff=sniff,
    label="EPUB",
)

"""Word (.docx) through python-docx: paragraphs and tables in document order."""

from __future__ import annotations

from collections.abc import Iterator

from docret.readers.base import Document, Reader, ReadOptions, Skipped, Source, make_document


def read_docx(source: Source, options: ReadOptions) -> Iterator[Document | Skipped]:
    """One document; the title from the core properties, else the first Title/Heading paragraph."""
    import docx
    from docx.table import Table

    doc = docx.Document(str(source.path))
    lines: list[str] = []
    heading = ""
    for block in doc.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                # merged cells repeat their text in every grid cell they span
                lines.append(" ".join(dict.fromkeys(c for c in cells if c)))
            lines.append("")
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if text and not heading and style.startswith(("Title", "Heading")):
            heading = text
        lines.append(text)
    props = doc.core_properties
    yield make_document(
        source,
        "\n".join(lines).strip(),
        "docx",
        title=props.title or heading,
        author=props.author,
        date=props.created.isoformat() if props.created else None,
    )


def is_zip_with(path, head: bytes, member: str) -> bool:
    """Whether the file is a zip archive holding ``member`` (Office and ODF files are zips)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return member in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


READER = Reader(
    name="docx",
    extensions=(".docx",),
    read=read_docx,
    requires=("docx",),
    extra="formats",
    sniff=lambda path, head: is_zip_with(path, head, "word/document.xml"),
    label="Word",
)

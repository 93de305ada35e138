"""The registry: every file format docret reads, in one place.

Each format is one module with a ``READER`` (:class:`~docret.readers.base.Reader`); adding a
format is adding its module to :data:`READERS`. :func:`reader_for` picks the reader of a file by
its extension, then by its first bytes; :func:`read_source` runs it so that nothing a reader
raises on a bad file escapes: the file becomes one :class:`Skipped` record instead.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from docret.readers import docx, epub, html, mail, markdown, odt, pdf, records, rtf, text
from docret.readers.base import (
    SNIFF_BYTES,
    Document,
    MissingLibrary,
    Reader,
    ReadOptions,
    Skipped,
    Source,
    looks_binary,
)

# Order matters only for sniffing: the first reader whose sniffer accepts a file reads it.
READERS: tuple[Reader, ...] = (
    text.READER,
    markdown.READER,
    pdf.READER,
    html.READER,
    docx.READER,
    odt.READER,
    epub.READER,
    rtf.READER,
    mail.EML,
    mail.MBOX,
    records.JSONL,
    records.TABLE,
)
_BY_EXTENSION = {ext: r for r in READERS for ext in r.extensions}


def by_name(name: str) -> Reader:
    """The reader called ``name`` ("pdf", "html", ...)."""
    for reader in READERS:
        if reader.name == name:
            return reader
    raise KeyError(name)


def extension_of(path: Path) -> str:
    """The extension docret goes by: ``.pdf``, or ``.jsonl.gz`` for a compressed collection."""
    name = path.name.lower()
    for ext in _BY_EXTENSION:
        if ext.count(".") > 1 and name.endswith(ext):
            return ext
    return path.suffix.lower()


def reader_for(path: Path, head: bytes, as_text: bool = False) -> Reader | None:
    """The reader for ``path``: by extension, else by the first bytes ``head``; a file that
    no sniffer recognises is plain text when it has no extension or ``as_text`` is set (the
    user's own --glob chose it) and it does not look binary. None: docret cannot read it."""
    reader = _BY_EXTENSION.get(extension_of(path))
    if reader is not None:
        return reader
    for candidate in READERS:
        if candidate.sniff is not None and candidate.sniff(path, head):
            return candidate
    if (as_text or not path.suffix) and not looks_binary(head):
        return text.READER
    return None


@cache
def missing_modules(reader: Reader) -> tuple[str, ...]:
    """The modules ``reader`` needs that are not installed."""
    return tuple(m for m in reader.requires if not _importable(m))


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module blocked in sys.modules
        return False


def read_source(
    source: Source, options: ReadOptions, as_text: bool = False
) -> Iterator[Document | Skipped]:
    """Every document of one file, or one :class:`Skipped` for what cannot be read.

    A reader's exception is never the run's: the documents it yielded before stay, and the
    rest of the file becomes one skip line naming the format and the error.
    """
    try:
        with source.path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as e:
        yield Skipped(source.id, "unreadable", e.strerror or str(e))
        return
    reader = reader_for(source.path, head, as_text)
    if reader is None:
        if looks_binary(head):
            yield Skipped(source.id, "binary file")
        else:
            yield Skipped(source.id, "unknown file type", "--glob with its pattern reads it")
        return
    label = reader.label or reader.name
    missing = missing_modules(reader)
    if missing:
        yield Skipped(
            source.id,
            f"{label} support not installed",
            f"pip install 'docret[{reader.extra or 'formats'}]'",
        )
        return
    try:
        yield from reader.read(source, options)
    except MissingLibrary:
        yield Skipped(source.id, f"{label} support not installed", "pip install 'docret[formats]'")
    except (MemoryError, RecursionError):
        yield Skipped(source.id, f"{label} file too large or too deeply nested")
    except OSError as e:
        yield Skipped(source.id, "unreadable", e.strerror or str(e))
    except Exception as e:  # noqa: BLE001 - a damaged file of any format is one skip line
        detail = " ".join(str(e).split())[:120] or type(e).__name__
        yield Skipped(source.id, f"damaged {label} file", detail)

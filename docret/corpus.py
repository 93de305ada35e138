"""Read documents from a folder, a single file, or a collection file, in any format docret reads.

Ids are stable and human-readable: a file's path relative to the folder given (records inside a
file add ``#key``: ``inbox.mbox#3``, ``paper.pdf#p2``, ``data.csv#17``), or the id field of a
JSON line or table row when that file is the path given. A file that sits exactly one folder
deep (``<label>/<file>``, the layout 20 Newsgroups ships in) gets that folder's name as its
label. Which reader reads a file is decided in :mod:`docret.readers`.

Symbolic links: a link inside the folder to a file inside the folder is read; links that lead
out of it (files or folders) are skipped with a line saying so, unless ``follow_links`` is set.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from docret.errors import CorpusError

# Only the light base module here: the readers load when something is read, so the query
# path (which needs Document and body_of) does not import mail, zip and XML modules.
from docret.readers.base import (
    _HEADER,
    TITLE_MAX_CHARS,
    Document,
    ReadOptions,
    Skipped,
    Source,
    clean_title,
    decode,
    title_of,
)
from docret.spool import SpooledDocuments

__all__ = [
    "TITLE_MAX_CHARS",
    "Document",
    "ReadOptions",
    "TEXTS_SOURCE",
    "ReadResult",
    "Skipped",
    "body_of",
    "decode",
    "iter_documents",
    "read_documents",
    "text_documents",
    "title_of",
]

# Where documents given as texts (the web API's additions) are stored as coming from: not a
# path, so that the same ids given again update them, and no temporary file is ever named.
TEXTS_SOURCE = "<texts>"


@dataclass
class ReadResult:
    """Documents read from a path, plus what was skipped on the way.

    ``documents`` is a list, or, past :data:`docret.spool.SPOOL_CHARS` of text, a
    :class:`~docret.spool.SpooledDocuments` read back from a temporary file.
    """

    documents: Sequence[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # Each file read (its id: the path relative to the folder, or the file's name), and
    # whether all of it was read (nothing of it skipped): an update removes the stored
    # documents of a file only where that file is gone or was read whole.
    files: dict[str, bool] = field(default_factory=dict)

    def skipped_by_reason(self) -> dict[str, int]:
        """How many items were skipped for each reason, most frequent first."""
        return dict(Counter(s.reason for s in self.skipped).most_common())


def body_of(text: str, title: str | None = None) -> str:
    """The text without its title line, or without the header block of a mail or news message.

    With ``title`` given, the first line is only left out when it is that title: a PDF, page
    or message whose title came from its metadata keeps its first line.
    """
    stripped = text.strip()
    if _HEADER.match(stripped):
        head, sep, rest = stripped.partition("\n\n")
        if sep and rest.strip():
            return rest.strip()
    first, _, rest = stripped.partition("\n")
    if title is not None and first.strip()[:TITLE_MAX_CHARS] != title:
        return stripped
    return rest.strip() or first


def iter_documents(
    path: str | Path,
    globs: Sequence[str] | None = None,
    options: ReadOptions | None = None,
) -> Iterator[Document | Skipped]:
    """Yield every document under ``path``, or a :class:`Skipped` record for what cannot be read.

    ``path`` is a folder (searched recursively, hidden files and folders left out: every file
    docret can read, or those matching ``globs``, which are read as text when no reader claims
    them), or a single file of any format docret reads (a collection file such as ``.jsonl``,
    ``.csv`` or ``.mbox`` gives one document per record). Raises :class:`CorpusError` when the
    path does not exist.
    """
    from docret.readers.registry import read_source

    options = options or ReadOptions()
    root = _existing(path)
    if root.is_dir():
        for item in walk(root, globs, options.follow_links):
            if isinstance(item, Skipped):
                yield item
            else:
                yield from read_source(_source(root, item), options, as_text=bool(globs))
    else:
        yield from read_source(Source(root, root.name), options, as_text=True)


def read_documents(
    path: str | Path,
    globs: Sequence[str] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    options: ReadOptions | None = None,
    spool_dir: str | Path | None = None,
) -> ReadResult:
    """Read everything under ``path`` (see :func:`iter_documents`) into a :class:`ReadResult`.

    Raises :class:`CorpusError` when nothing readable is found, or with ``options.strict``
    when anything was skipped. ``on_skip`` is called once for each skipped file, record or
    line, so that a caller can warn as it goes; ``on_progress`` with the number of files read
    so far and their total (None for a single file). Documents past
    :data:`docret.spool.SPOOL_CHARS` of text wait in a temporary file in ``spool_dir`` (by
    default the system's temporary folder).
    """
    from docret.readers.registry import read_source

    options = options or ReadOptions()
    root = _existing(path)
    documents = SpooledDocuments(directory=spool_dir)
    result = ReadResult(documents)
    seen: set[str] = set()

    def keep(item: Document | Skipped) -> bool:
        """Keep ``item``; whether it was a document (not skipped)."""
        if isinstance(item, Document):
            item = _as_text(item)
        if isinstance(item, Document) and item.id in seen:
            item = Skipped(item.id, "duplicate id")
        if isinstance(item, Skipped):
            result.skipped.append(item)
            if on_skip is not None:
                on_skip(item)
            return False
        seen.add(item.id)
        documents.append(item)
        return True

    if root.is_dir():
        listed = list(walk(root, globs, options.follow_links))
        files = [p for p in listed if isinstance(p, Path)]
        for item in listed:
            if isinstance(item, Skipped):
                keep(item)
        for count, p in enumerate(files, start=1):
            source = _source(root, p)
            whole = True
            for item in read_source(source, options, as_text=bool(globs)):
                whole = keep(item) and whole
            result.files[source.id] = whole
            if on_progress is not None and (count % 200 == 0 or count == len(files)):
                on_progress(count, len(files))
    else:
        whole = True
        for item in read_source(Source(root, root.name), options, as_text=True):
            whole = keep(item) and whole
            if on_progress is not None and len(seen) % 1000 == 0 and seen:
                on_progress(len(seen), None)
        result.files[root.name] = whole
    if not documents.spooled:
        result.documents = documents.as_list()
    if not documents:
        raise CorpusError(f"No readable documents in {path} ({_nothing_read(root, globs, result)})")
    if options.strict and result.skipped:
        first = result.skipped[0]
        raise CorpusError(
            f"{len(result.skipped):,} skipped in {path} and --strict is set, so nothing was "
            f"written (first: {first.source}: {first.message})"
        )
    return result


def text_documents(records: Sequence[Mapping[str, Any]]) -> list[Document]:
    """Documents of records given as values (``id``, ``text``, optional ``title``, ``labels``).

    Raises :class:`CorpusError`, naming the record, for anything that cannot be stored as it
    was given: no records, an id or text that is blank or not a string, a NUL character in an
    id, text that is not valid Unicode (a lone surrogate), labels that are not strings, or an
    id given twice.
    """
    if not records:
        raise CorpusError("No documents given")
    documents: list[Document] = []
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        doc_id, text = record.get("id"), record.get("text")
        title, labels = record.get("title"), record.get("labels") or []
        where = f"Document {number:,}"
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise CorpusError(f"{where} has no id")
        where += f" ({_shown(doc_id)})"
        if "\x00" in doc_id:
            raise CorpusError(f"{where}: an id cannot hold a NUL character")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{where} has no text")
        if not isinstance(labels, (list, tuple)) or not all(isinstance(x, str) for x in labels):
            raise CorpusError(f"{where}: labels must be a list of strings")
        if title is not None and not isinstance(title, str):
            raise CorpusError(f"{where}: the title must be a string")
        fields = [("id", doc_id), ("text", text), ("title", title or "")]
        for name, value in fields + [("label", x) for x in labels]:
            if not _is_text(value):
                raise CorpusError(f"{where}: the {name} is not valid Unicode (a lone surrogate)")
        if doc_id in seen:
            raise CorpusError(f"{where}: the id is given twice")
        seen.add(doc_id)
        documents.append(
            Document(
                id=doc_id,
                text=text,
                title=clean_title(title) or title_of(text),
                labels=tuple(dict.fromkeys(x for x in labels if x.strip())),
                metadata={"type": "text"},
            )
        )
    return documents


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(doc_id: str, most: int = 40) -> str:
    """An id for a message: quoted, escaped, cut to ``most`` characters."""
    return repr(doc_id if len(doc_id) <= most else doc_id[:most] + "…")


def _existing(path: str | Path) -> Path:
    root = Path(path)
    if not root.exists():
        if root.is_symlink():
            raise CorpusError(f"Path is a broken symbolic link: {path}")
        raise CorpusError(f"Path does not exist: {path}")
    return root


def _nothing_read(root: Path, globs: Sequence[str] | None, result: ReadResult) -> str:
    if result.skipped:
        reasons = ", ".join(f"{n:,} {r}" for r, n in result.skipped_by_reason().items())
        return f"{len(result.skipped):,} skipped: {reasons}"
    if root.is_dir():
        return f"no files match {', '.join(globs)}" if globs else "the folder has no files"
    return "the file is empty"


def _source(root: Path, p: Path) -> Source:
    rel = p.relative_to(root)
    labels = (rel.parts[0],) if len(rel.parts) == 2 else ()
    return Source(p, rel.as_posix(), labels, in_folder=True)


def check_globs(globs: Sequence[str] | None) -> None:
    """CorpusError if a file name pattern is empty: it matches no file, and
    :meth:`PurePath.match` refuses it."""
    if globs and any(not g for g in globs):
        raise CorpusError("give a file name pattern, e.g. '*.txt', not an empty one")


def walk(
    root: Path, globs: Sequence[str] | None = None, follow_links: bool = False
) -> Iterator[Path | Skipped]:
    """Files under ``root``, hidden ones left out, matching any of ``globs``
    (patterns on the path relative to ``root``, as :meth:`PurePath.match` reads them).

    Symbolic links that lead out of ``root`` (or are broken) come first, as :class:`Skipped`
    unless ``follow_links``; then the files, sorted (a build's document order, and so its
    codes, do not depend on the file system's order); a folder reached twice is read once.
    """
    check_globs(globs)
    files: list[Path] = []
    real_root = root.resolve()
    visited: set[str] = set()
    unreadable: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(
        root, followlinks=follow_links, onerror=unreadable.append
    ):
        while unreadable:  # a folder os.walk could not list (permissions)
            yield _unreadable(unreadable.pop(), root)
        here = Path(dirpath)
        real = os.path.realpath(dirpath)
        if real in visited:  # a link loop, or a second link to the same folder
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if not follow_links:
            for d in dirnames:
                link = here / d
                if link.is_symlink() and not _inside(link, real_root):
                    yield Skipped(
                        link.relative_to(root).as_posix() + "/",
                        "link leads outside the folder",
                        "--follow-links reads it",
                    )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = here / name
            rel = p.relative_to(root)
            if globs and not any(PurePosixPath(rel.as_posix()).match(g) for g in globs):
                continue
            if not valid_name(rel.as_posix()):
                # A document's id is its file's relative path, stored, shown and typed back as
                # text (``docret remove ID``); a name with bytes that are not UTF-8 has no such
                # text, and an escaped one would name no file. One skip line: once renamed,
                # the file is read.
                yield Skipped(shown_name(rel.as_posix()), "file name is not valid UTF-8")
                continue
            if p.is_symlink():
                if not p.exists():
                    yield Skipped(rel.as_posix(), "broken link")
                    continue
                if not follow_links and not _inside(p, real_root):
                    yield Skipped(
                        rel.as_posix(), "link leads outside the folder", "--follow-links reads it"
                    )
                    continue
            if p.is_file():
                files.append(p)
    yield from (_unreadable(e, root) for e in unreadable)
    yield from sorted(files)


# Lone surrogates: what Python makes of bytes that are not UTF-8 in a file name, or of a
# "\ud800" escape in JSON. SQLite stores only text that is UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_text(document: Document) -> Document | Skipped:
    """``document`` as it can be stored: lone surrogates in its text and title replaced by
    U+FFFD (as undecodable bytes are); one in its id skips it (an id must name it exactly)."""
    if not valid_name(document.id):
        return Skipped(shown_name(document.id), "id is not valid UTF-8")
    # isascii() reads a flag of the string: most texts cost no scan
    if any(not t.isascii() and _SURROGATE.search(t) for t in (document.text, document.title)):
        return dataclasses.replace(
            document,
            text=_SURROGATE.sub("\ufffd", document.text),
            title=_SURROGATE.sub("\ufffd", document.title),
        )
    return document


def valid_name(name: str) -> bool:
    """Whether a file name read from the file system is text (no bytes that are not UTF-8,
    which Python carries as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(name: str) -> str:
    """A file name or id with what is not UTF-8 in it written as escapes (``\\xff``)."""
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no byte gave (a JSON escape)
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _unreadable(e: OSError, root: Path) -> Skipped:
    where = os.path.relpath(e.filename, root) if e.filename else "."
    return Skipped(Path(where).as_posix() + "/", "unreadable folder", e.strerror or str(e))


def _inside(link: Path, real_root: Path) -> bool:
    try:
        link.resolve().relative_to(real_root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True

"""The original file a stored document was read from, when it is safe to hand out.

A document's stored ``path`` is only ever served when it names a file of its own (not a record
of a collection such as a JSON-lines file, a table or a mailbox, nor a text added through the
API, whose file is a temporary one), when it still exists, and when its real path (symbolic
links resolved) lies inside the folder (or is the file) that the document was indexed from. A
database whose paths were changed by hand therefore cannot make the server read other files.
"""

from __future__ import annotations

import os
from pathlib import Path

from docret.errors import DocretError
from docret.index import Index
from docret.store import StoredDocument

# Types whose files hold many documents: a record has no file of its own.
COLLECTION_TYPES = frozenset({"jsonl", "csv"})
# A message read from a mailbox is an "email" like a single .eml file, which has its own file.
MESSAGE_FILE_SUFFIXES = frozenset({".eml"})


def has_own_file(doc: StoredDocument) -> bool:
    """Whether ``doc`` was read from a file of its own (rather than a record of a collection)."""
    if not doc.path:
        return False
    kind = doc.metadata.get("type")
    if kind in COLLECTION_TYPES:
        return False
    if kind == "email":
        return Path(doc.path).suffix.lower() in MESSAGE_FILE_SUFFIXES
    return True


def inside(path: str, root: str) -> bool:
    """Whether the real path of ``path`` is the real path of ``root`` or lies under it."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or (os.path.isdir(top) and real.startswith(top.rstrip(os.sep) + os.sep))


def original_file(index: Index, doc_id: str) -> Path | None:
    """The file ``doc_id`` was read from, resolved, or None when it has none that may be
    served (see the module's description). Raises
    :class:`~docret.errors.UnknownDocumentError` for an id that is not in the index."""
    doc = index.document(doc_id)
    if not has_own_file(doc):
        return None
    source = index.store.document_sources([doc_id]).get(doc_id)
    if not source or not inside(doc.path, source):
        return None
    real = Path(os.path.realpath(doc.path))
    return real if real.is_file() else None


def file_to_open(index: Index, doc_id: str) -> Path:
    """:func:`original_file`, or a one-line :class:`~docret.errors.DocretError` saying why the
    document has none to open."""
    path = original_file(index, doc_id)
    if path is None:
        raise DocretError(
            f"Document {doc_id!r} has no file of its own to open: a record of a collection, a "
            "text added through the API, or a file moved, removed or outside its indexed folder"
        )
    return path

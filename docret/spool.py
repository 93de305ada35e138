"""Documents read for a build, kept on disk once there are many of them.

A build reads every document before it trains and writes them all once the model is ready.
Held as Python objects, a million documents take gigabytes. :class:`SpooledDocuments`
keeps them in a list until their text passes :data:`SPOOL_CHARS`, then moves them to a
temporary SQLite file beside the index (one JSON row each) and reads them back in order, a
chunk at a time, or one by one for the few that the default ranking's pseudo-queries sample.
The file is deleted when the sequence is closed or collected. A process killed outright
cannot delete its file: its name holds the host and the process id, so the next spool in
that folder on that host deletes the files of processes that are gone
(:func:`remove_stale`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from docret.errors import CorpusError
from docret.readers.base import Document

# Text held in memory before the documents move to disk: a folder of a few hundred
# megabytes of text stays in memory, where reading it back costs nothing.
SPOOL_CHARS = 256_000_000
_BATCH = 1000  # rows written or read at a time
_PREFIX = ".docret-spool-"


class SpooledDocuments(Sequence[Document]):
    """A sequence of documents that moves to a temporary file past ``limit`` characters of
    text (default :data:`SPOOL_CHARS`)."""

    def __init__(self, limit: int | None = None, directory: str | Path | None = None) -> None:
        self.limit = SPOOL_CHARS if limit is None else limit
        self.directory = directory
        self._memory: list[Document] = []
        self._pending: list[tuple[int, str]] = []
        self._count = 0
        self._chars = 0
        self._db: sqlite3.Connection | None = None
        self._cleanup: weakref.finalize | None = None
        self._path = ""

    @property
    def spooled(self) -> bool:
        """Whether the documents are on disk."""
        return self._db is not None

    def append(self, document: Document) -> None:
        """Add ``document`` at the end."""
        if self._db is None:
            self._memory.append(document)
            self._chars += len(document.text)
            if self._chars > self.limit:
                self._spill()
        else:
            self._pending.append((self._count + 1, _to_json(document)))
            if len(self._pending) >= _BATCH:
                self._flush()
        self._count += 1

    def as_list(self) -> list[Document]:
        """The documents as a list (those on disk are read back)."""
        return self._memory if self._db is None else list(self)

    def close(self) -> None:
        """Delete the temporary file, if any; the sequence is empty afterwards."""
        if self._cleanup is not None:
            self._cleanup()
        self._db, self._cleanup, self._memory, self._pending, self._count = None, None, [], [], 0

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> Document: ...
    @overload
    def __getitem__(self, i: slice) -> list[Document]: ...
    def __getitem__(self, i: int | slice) -> Document | list[Document]:
        if self._db is None:
            return self._memory[i]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        i = range(self._count)[i]  # a numpy integer too; negative from the end; IndexError
        self._flush()
        (data,) = self._db.execute("select data from docs where n = ?", [i + 1]).fetchone()
        return _from_json(data)

    def __iter__(self) -> Iterator[Document]:
        if self._db is None:
            yield from self._memory
            return
        self._flush()
        cursor = self._db.execute("select data from docs order by n")
        while rows := cursor.fetchmany(_BATCH):
            for (data,) in rows:
                yield _from_json(data)

    def _spill(self) -> None:
        # Beside the index if it can be (the system's temporary folder may be a RAM disk, and
        # the index will hold the same text anyway), else in that temporary folder.
        prefix = f"{_PREFIX}{_host()}-{os.getpid()}-"
        if self.directory is not None:
            remove_stale(self.directory)  # the files of builds killed outright
        try:
            fd, path = tempfile.mkstemp(prefix=prefix, suffix=".db", dir=self.directory)
        except OSError:
            fd, path = tempfile.mkstemp(prefix=prefix[1:], suffix=".db")
        os.close(fd)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._cleanup = weakref.finalize(self, _remove, db, path)
        self._path = path
        with self._writing():
            # A scratch file: nothing in it must survive a crash, so no journal, no syncing.
            db.execute("pragma journal_mode = off")
            db.execute("pragma synchronous = off")
            db.execute("create table docs (n integer primary key, data text not null)")
        self._db = db
        self._pending = [(n, _to_json(d)) for n, d in enumerate(self._memory, start=1)]
        self._memory = []
        self._flush()

    def _flush(self) -> None:
        if self._pending and self._db is not None:
            with self._writing(), self._db:
                self._db.execute("begin")
                self._db.executemany("insert into docs (n, data) values (?, ?)", self._pending)
            self._pending = []

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Say what failed, and where, when the temporary file cannot be written (a full
        disk), instead of a bare SQLite error."""
        try:
            yield
        except (sqlite3.Error, OSError) as e:
            self.close()
            raise CorpusError(
                f"Could not keep the documents read in the temporary file {self._path} ({e}); "
                "a corpus this large needs free disk space beside the index, about the size "
                "of its text"
            ) from None


class Field(Sequence[Any]):
    """One field (``text``, ``labels``) of a sequence of documents, read as it is asked for."""

    def __init__(self, documents: Sequence[Document], name: str) -> None:
        self.documents, self.name = documents, name

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [getattr(d, self.name) for d in self.documents[i]]
        return getattr(self.documents[i], self.name)

    def __iter__(self) -> Iterator[Any]:
        return (getattr(d, self.name) for d in self.documents)


def texts_of(documents: Sequence[Document]) -> Sequence[str]:
    """The texts of ``documents``: a list, or a lazy view of documents spooled to disk."""
    return _field(documents, "text")


def labels_of(documents: Sequence[Document]) -> Sequence[Sequence[str]]:
    """The labels of ``documents``, as :func:`texts_of` gives their texts."""
    return _field(documents, "labels")


def _field(documents: Sequence[Document], name: str) -> Sequence[Any]:
    if isinstance(documents, SpooledDocuments) and documents.spooled:
        return Field(documents, name)
    return [getattr(d, name) for d in documents]


def close_spool(documents: Sequence[Document]) -> None:
    """Delete the temporary file behind ``documents``, if they were spooled."""
    if isinstance(documents, SpooledDocuments):
        documents.close()


def remove_stale(directory: str | Path) -> list[Path]:
    """Delete the spool files in ``directory`` left by processes of this host that no longer
    run (a build killed outright); return their paths. Files of running processes, of other
    hosts (a shared folder) and of unknown form are kept. Nothing is deleted where a process'
    existence cannot be asked without signalling it (not POSIX)."""
    if os.name != "posix":
        return []
    removed = []
    pattern = re.compile(re.escape(f"{_PREFIX}{_host()}-") + r"(\d+)-[^/]*\.db\Z")
    for path in Path(directory).glob(f"{_PREFIX}*.db"):
        m = pattern.match(path.name)
        if m is None or _running(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _host() -> str:
    """This host's name as it may stand in a file name."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def _to_json(d: Document) -> str:
    return json.dumps(
        [d.id, d.text, d.title, list(d.labels), d.path, d.split, dict(d.metadata)],
        ensure_ascii=False,
    )


def _from_json(data: str) -> Document:
    id_, text, title, labels, path, split, metadata = json.loads(data)
    return Document(id_, text, title, tuple(labels), path, split, metadata)


def _remove(db: sqlite3.Connection, path: str) -> None:
    db.close()
    with contextlib.suppress(OSError):
        os.unlink(path)

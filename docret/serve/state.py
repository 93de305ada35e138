"""The one :class:`~docret.index.Index` a server process holds, kept current and used safely.

SQLite connections belong to the thread that opened them and the index's lazily built state is
not meant for concurrent use, so every call on the index runs in one worker thread, one at a
time; requests wait on it without blocking the event loop. Before each call the database's
change stamp (:func:`~docret.serve.adapter.change_stamp`) is compared with the one the index
was opened at, and the index is reopened when another process has rebuilt or added to it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from docret.errors import DatabaseError, DocretError
from docret.index import Index
from docret.serve import adapter

T = TypeVar("T")


class Unavailable(DocretError):
    """The database cannot be read right now (being rebuilt, replaced or locked)."""


class ServedIndex:
    """The index of one database file, reopened when the file changes under it."""

    def __init__(self, db: str | Path) -> None:
        self.db = str(db)
        self._index: Index | None = None
        self._stamp: tuple[Any, ...] | None = None
        self._cache: dict[str, Any] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docret-index")

    def check(self) -> None:
        """Open the index now; raises :class:`DatabaseError` with the CLI's message."""

        def first() -> None:
            Index.open(self.db).close()  # the CLI's own message for a missing or foreign file
            self._current().snapshot  # noqa: B018 (reads model and codes now)

        self._worker.submit(first).result()

    async def run(self, fn: Callable[..., T], *args: Any, writes: bool = False) -> T:
        """``fn(index, *args)`` in the index's thread, on an index that is up to date."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._call, fn, args, writes)

    def cached(self, key: str, make: Callable[[Index], T], index: Index) -> T:
        """``make(index)``, computed once per opened index (call from inside :meth:`run`)."""
        if key not in self._cache:
            self._cache[key] = make(index)
        return self._cache[key]

    def close(self) -> None:
        """Close the database and stop the worker thread."""

        def close() -> None:
            if self._index is not None:
                self._index.close()
                self._index = None

        self._worker.submit(close).result()
        self._worker.shutdown()

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], writes: bool) -> T:
        try:
            index = self._current()
            result = fn(index, *args)
        except sqlite3.OperationalError as e:  # locked or busy beyond SQLite's own wait
            raise Unavailable(f"The database is busy ({e}); try again") from None
        if writes:  # own commits leave data_version as it is: drop what was derived here
            self._cache.clear()
        return result

    def _current(self) -> Index:
        """The open index, reopened first when the database changed since it was opened."""
        try:
            stamp = adapter.change_stamp(self.db, self._index)
        except FileNotFoundError:
            self._drop()
            raise Unavailable(f"Database not found: {self.db} (being rebuilt?)") from None
        if self._index is not None and stamp == self._stamp:
            return self._index
        self._drop()
        try:
            index = Index.open(self.db)
        except DatabaseError as e:
            raise Unavailable(str(e)) from None
        self._index = index
        self._stamp = adapter.change_stamp(self.db, index)
        return index

    def _drop(self) -> None:
        if self._index is not None:
            self._index.close()
        self._index = None
        self._stamp = None
        self._cache.clear()

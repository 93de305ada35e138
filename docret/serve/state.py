"""The :class:`~docret.index.Index` a server process reads and writes, kept current and used safely.

SQLite connections belong to the thread that opened them and an index's lazily built state is
not meant for concurrent use, so each worker thread holds an index of its own: queries run on a
few reader threads (one slow query leaves the others free), writes on one writer thread. Before
each call the database's change stamp (:func:`~docret.serve.adapter.change_stamp`) is compared
with the one the thread's index was opened at, and the index is reopened when the file changed:
another process rebuilt, replaced or added to it, or the writer thread wrote to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from docret.errors import DamagedDatabaseError, DatabaseError, DocretError
from docret.index import Index
from docret.serve import adapter

T = TypeVar("T")
READERS = 2  # threads answering reads; each holds its own index (model and codes in memory)
RETRY_AFTER = 2  # seconds, sent with every 503


class Unavailable(DocretError):
    """The database cannot be read right now (being rebuilt, replaced or locked)."""


class _Opened:
    """One thread's index, the change stamp it was opened at, and what was derived from it."""

    def __init__(self) -> None:
        self.index: Index | None = None
        self.stamp: tuple[Any, ...] | None = None
        self.cache: dict[str, Any] = {}

    def drop(self) -> None:
        if self.index is not None:
            # a replaced or damaged file: the connection is given up all the same
            with contextlib.suppress(sqlite3.Error):
                self.index.close()
        self.index = None
        self.stamp = None
        self.cache.clear()


class _Workers:
    """Threads taking calls from one queue; each closes what it opened when stopped."""

    def __init__(self, count: int, name: str, run: Callable[..., Any], stop: Callable[[], None]):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._run = run
        self._stop = stop
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, *args: Any) -> Future:
        future: Future = Future()
        self._jobs.put((future, args))
        return future

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._stop()
                return
            future, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._run(*args))
            except BaseException as e:  # handed to the waiting request
                future.set_exception(e)


class ServedIndex:
    """The index of one database file, reopened when the file changes under it."""

    def __init__(self, db: str | Path, readers: int = READERS) -> None:
        self.db = str(db)
        self._local = threading.local()
        self._readers = _Workers(max(1, readers), "docret-read", self._call, self._close_local)
        self._writer = _Workers(1, "docret-write", self._call, self._close_local)

    def check(self) -> None:
        """Open the index now; raises :class:`DatabaseError` with the CLI's message."""

        def first(index: Index) -> None:
            index.snapshot  # noqa: B018 (reads model and codes now)

        Index.open(self.db).close()  # the CLI's own message for a missing or foreign file
        self._readers.submit(first, (), False).result()

    async def run(self, fn: Callable[..., T], *args: Any, writes: bool = False) -> T:
        """``fn(index, *args)`` on a worker thread's index, brought up to date first: reads
        on one of the reader threads, writes (``writes``) on the writer thread."""
        workers = self._writer if writes else self._readers
        return await asyncio.wrap_future(workers.submit(fn, args, writes))

    def cached(self, key: str, make: Callable[[Index], T], index: Index) -> T:
        """``make(index)``, computed once per opened index (call from inside :meth:`run`)."""
        cache = self._opened().cache
        if key not in cache:
            cache[key] = make(index)
        return cache[key]

    def close(self) -> None:
        """Close every thread's database connection and stop the threads."""
        self._readers.shutdown()
        self._writer.shutdown()

    def _opened(self) -> _Opened:
        if not hasattr(self._local, "opened"):
            self._local.opened = _Opened()
        return self._local.opened

    def _close_local(self) -> None:
        self._opened().drop()

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], writes: bool) -> T:
        opened = self._opened()
        try:
            index = self._current(opened)
            result = fn(index, *args)
        except sqlite3.OperationalError as e:  # locked or busy beyond SQLite's own wait
            raise Unavailable(f"The database is busy ({e}); try again") from None
        except sqlite3.DatabaseError as e:  # the file was replaced or damaged under this index
            opened.drop()  # the next call opens the file anew
            raise Unavailable(f"The database changed while it was read ({e}); try again") from None
        except DamagedDatabaseError as e:  # not the request's fault: the file's, maybe for now
            opened.drop()
            raise Unavailable(str(e)) from None
        if writes:  # own commits leave data_version as it is: drop what was derived here
            opened.cache.clear()
        return result

    def _current(self, opened: _Opened) -> Index:
        """The thread's open index, reopened first when the database changed since."""
        try:
            stamp = adapter.change_stamp(self.db, opened.index)
        except FileNotFoundError:
            opened.drop()
            raise Unavailable(f"Database not found: {self.db} (being rebuilt?)") from None
        except sqlite3.DatabaseError:
            # The file was replaced in place (a copy over it): this connection's view of it
            # is stale. Open it again; if that fails too, the caller says 503.
            opened.drop()
            stamp = None
        if opened.index is not None and stamp == opened.stamp:
            return opened.index
        opened.drop()
        try:
            index = Index.open(self.db)
        except DatabaseError as e:
            raise Unavailable(str(e)) from None
        opened.index = index
        opened.stamp = adapter.change_stamp(self.db, index)
        return index

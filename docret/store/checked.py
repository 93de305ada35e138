"""What a file holds, checked as it is read: JSON that parses to what docret writes, weight
blobs as long as their shapes say, blobs' lengths counted at C speed. Anything else docret never
writes, so a file holding it is damaged (:meth:`StoreBase.damaged`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlite_utils

from docret.store.rows import from_blob

if TYPE_CHECKING:
    from docret.store.base import StoreBase


def short(value: Any, most: int = 40) -> str:
    """``repr(value)`` for a message, cut to ``most`` characters."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 3] + "..."


def parsed(store: StoreBase, text: Any, what: str, kind: type, default: Any = None) -> Any:
    """The JSON ``text`` of ``what`` as a ``kind`` (dict or list); ``default`` where it is
    empty and may be. Anything else raises :class:`~docret.errors.DamagedDatabaseError`."""
    if text is None or text == "":
        if default is not None:
            return default
        raise store.damaged(f"{what} is missing")
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise store.damaged(f"{what} is not JSON: {short(text)}") from None
    if not isinstance(value, kind):
        raise store.damaged(f"{what} is not a JSON {'object' if kind is dict else 'list'}")
    return value


def whole(value: Any, least: int = 0) -> bool:
    """Whether ``value`` is an int (not a bool, nor a float) of at least ``least``."""
    return type(value) is int and value >= least


def weight_tensor(store: StoreBase, name: Any, shape_text: Any, data: Any) -> np.ndarray:
    """A stored weight tensor, its blob as long as its shape says."""
    shape = parsed(store, shape_text, f"the shape of weight {short(name)}", list)
    if not all(whole(n) for n in shape):
        raise store.damaged(f"weight {short(name)} has the shape {short(shape)}")
    size = 4 * int(np.prod(shape, dtype=object)) if shape else 4
    if not isinstance(data, bytes) or len(data) != size:
        length = len(data) if isinstance(data, bytes) else 0
        raise store.damaged(
            f"weight {short(name)} holds {length:,} bytes, its shape {shape} needs {size:,}"
        )
    return from_blob(data).reshape(shape)


def blob_lengths(blobs: Sequence[Any]) -> np.ndarray:
    """The length of each blob (-1 for a value that is not one), as an int64 array."""
    if set(map(type, blobs)) <= {bytes}:  # the usual case, checked at C speed
        return np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return np.fromiter(
        (len(b) if isinstance(b, bytes) else -1 for b in blobs), dtype=np.int64, count=len(blobs)
    )


def joined_blobs(blobs: list[bytes], stored: str, dtype: type) -> np.ndarray:
    """One array of the ``stored`` little-endian values of ``blobs``, which it empties: the
    blobs go as soon as they are joined, so at most two copies of them are held at once."""
    joined = b"".join(blobs)
    blobs.clear()
    return np.frombuffer(joined, dtype=stored).astype(dtype)


def terms_problem(db: sqlite_utils.Database, table: str, n: int) -> str | None:
    """What is wrong with the ``n`` term ids of ``table`` (vocabulary or lexicon): ids
    other than 0, 1, 2, ... (an integer primary key: whole and distinct, so its ends
    tell, and they are read from the index at once)."""
    low, high = db.execute(f"select min(term_id), max(term_id) from [{table}]").fetchone()
    if n and (low, high) != (0, n - 1):
        return f"the {table}'s term ids run from {low} to {high}, not 0 to {n - 1:,}"
    return None

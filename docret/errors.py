"""Errors a user can act on.

Every expected failure raises a :class:`DocretError` subclass whose message is one readable
line; the CLI turns it into ``Error: ...`` with exit code 1 and no traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_LISTED = 20  # items an error message names before it counts the rest
MAX_WORD_SHOWN = 40  # characters of one echoed word (a query may hold a word of any length)


def clipped(word: str, most: int = MAX_WORD_SHOWN) -> str:
    """``word`` as a message echoes it: its first ``most`` characters and ``…`` when longer."""
    return word if len(word) <= most else word[:most] + "…"


def listing(items: Sequence[str], most: int = MAX_LISTED) -> str:
    """``a, b, c`` for a message, the tail counted: ``a, b and 2,345 more``."""
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most:,} more" if len(items) > most else "")


class DocretError(Exception):
    """Base class of every error docret expects and explains to the user."""


class CorpusError(DocretError):
    """The input path is missing, empty, or holds nothing docret can read."""


class DatabaseError(DocretError):
    """The database is missing, not a docret database, or from a newer docret."""


class DamagedDatabaseError(DatabaseError):
    """The database holds something docret never writes: a damaged page, text that is not
    UTF-8, a number or JSON that is not, term ids past the vocabulary, weights of the wrong
    shape. ``detail`` says what, without the advice around it (``docret check`` lists it)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class TrainingError(DocretError):
    """The corpus is too small or otherwise unfit for training a model."""


class QueryError(DocretError):
    """The query is empty or shares no word with the index vocabulary."""


class FilterError(QueryError):
    """A filter value that cannot be read: a date that is not a date, ``where`` without
    ``=``, an empty value."""


class UnknownDocumentError(DocretError):
    """A document id that is not in the index."""


class SettingError(TrainingError, ValueError):
    """A model setting out of its bounds (:func:`docret.defaults.check_settings`); ``setting``
    names it, so the CLI can name the option."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting

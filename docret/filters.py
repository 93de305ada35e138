"""Filters over what an index stores of each document: its labels, type, path, date and any
metadata field. A filter narrows the documents a query ranks before its top ``k`` is taken.

:class:`Filters` is the value (frozen and hashable: it keys the cache of masks), read from
what a person types by :meth:`Filters.parse` (the CLI's options, the server's parameters,
``field:value`` in a query's text, :mod:`docret.query_syntax`); :mod:`docret.facts` turns it
into a boolean mask over an index's rows. Nothing here imports numpy: the CLI checks its
options with it before anything is read.
"""

from __future__ import annotations

import calendar
import fnmatch
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from typing import Any

from docret.errors import FilterError

__all__ = ["FIELDS", "FilterSpec", "Filters", "path_matcher", "read_date", "read_where"]

# The filters by name, as the CLI's options, the server's parameters and a mapping name them.
FIELDS = ("label", "type", "path", "since", "until", "where")
# A metadata key ``where`` may name: a word of letters, digits, "_", "-" and "." (no quotes,
# so that it can be looked up as it is).
_KEY = re.compile(r"[A-Za-z_][\w.-]*")
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?")


@dataclass(frozen=True)
class Filters:
    """Which documents a query may return; every field given must hold (empty: no filter).

    ``labels``: the document carries every one of them; ``types``: it is of any of them (pdf,
    html, ...); ``paths``: its stored path matches any of them (a glob, or a folder or file
    name, :func:`path_matcher`); ``since`` / ``until``: its date metadata falls
    on or after / on or before that day; ``where``: each ``(key, value)`` metadata field
    equals the value. Labels, types and values compare case-insensitively."""

    labels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    where: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.labels or self.types or self.paths or self.where or self.since or self.until
        )

    @classmethod
    def parse(
        cls,
        label: str | Iterable[str] = (),
        type: str | Iterable[str] = (),  # noqa: A002 - the name a person types
        path: str | Iterable[str] = (),
        since: str | date | Iterable[str] | None = None,
        until: str | date | Iterable[str] | None = None,
        where: str | Iterable[str] = (),
    ) -> Filters:
        """Filters from typed values (a string or several of each; of several dates the last;
        dates as ISO dates, a year or a month: ``until 2024`` is until its last day); raises
        :class:`FilterError`, one line naming the filter, for a value that cannot be read."""
        since, until = _last(since), _last(until)
        return cls(
            labels=_texts("label", label),
            types=tuple(t.lower() for t in _texts("type", type)),
            paths=_texts("path", path),
            since=None if since is None else read_date(since, "since"),
            until=None if until is None else read_date(until, "until", last=True),
            where=tuple(read_where(w) for w in _texts("where", where)),
        )

    @classmethod
    def of(cls, spec: FilterSpec) -> Filters:
        """``spec`` as :class:`Filters`: itself, none (None), or a mapping of
        :data:`FIELDS` to values as :meth:`parse` takes them (``{"type": "pdf"}``)."""
        if spec is None:
            return cls()
        if isinstance(spec, Filters):
            return spec
        if not isinstance(spec, Mapping):
            raise TypeError(f"filters must be Filters or a mapping, not {spec.__class__.__name__}")
        unknown = [str(name) for name in spec if name not in FIELDS]
        if unknown:
            raise FilterError(f"Unknown filter {unknown[0]!r} (filters: {', '.join(FIELDS)})")
        return cls.parse(**spec)

    def params(self) -> dict[str, list[str]]:
        """The filters as query parameters (``{"label": [...], "since": ["2024-01-01"]}``),
        each as :meth:`parse` reads it back; empty ones left out."""
        values = {
            "label": list(self.labels),
            "type": list(self.types),
            "path": list(self.paths),
            "since": [self.since.isoformat()] if self.since else [],
            "until": [self.until.isoformat()] if self.until else [],
            "where": [f"{k}={v}" for k, v in self.where],
        }
        return {name: v for name, v in values.items() if v}

    def describe(self) -> str:
        """The filters in words, for a title: ``type pdf, label finance, since 2024-01-01``."""
        return ", ".join(
            f"{name} {value}" for name, values in self.params().items() for value in values
        )


FilterSpec = Filters | Mapping[str, Any] | None


def _last(value: str | date | Iterable[str] | None) -> str | date | None:
    """One date of ``value``: itself, or the last of several (None of none)."""
    if value is None or isinstance(value, (str, date)):
        return value
    values = list(value)
    return values[-1] if values else None


def _texts(name: str, value: str | Iterable[str] | None) -> tuple[str, ...]:
    """A filter's values as a tuple of stripped strings; an empty one raises."""
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    out = []
    for v in values:
        if not isinstance(v, str):
            raise FilterError(f"{name}: give text, not {v!r}")
        if not v.strip():
            raise FilterError(f"{name}: give a value, not an empty one")
        out.append(v.strip())
    return tuple(dict.fromkeys(out))


def path_matcher(value: str) -> Callable[[str], bool]:
    """Whether a stored path (or a document's id where it has none) matches the ``path``
    filter ``value``. With ``*``, ``?`` or ``[...]`` it is a glob of names as ``fnmatch``
    reads each one (``*`` and ``?`` within a name, ``[!...]`` a complement), a name ``**``
    standing for any number of folders: it matches the path's last names (``docs/*.pdf``,
    ``*.md``, ``docs/**/*.pdf``), or the whole path when it starts with ``/``. Without, it
    names a folder the document lies in, or its file: absolute (``/data/ann/docs``), or
    anywhere in the path at whole names (``docs``, ``docs/2024``, ``report.pdf``)."""
    if not any(c in value for c in "*?["):
        start = "^" if value.startswith("/") else "(?:^|/)"
        folder = re.compile(start + re.escape(value.rstrip("/") or "/") + "(?:/|$)")
        return lambda path: folder.search(path) is not None
    # fnmatch's expressions match one name each and cannot take exponential time on one that
    # does not match (it emulates atomic groups), whatever the pattern
    glob = value.rstrip("/") or value
    parts = [None if p == "**" else re.compile(fnmatch.translate(p)) for p in glob.split("/")]
    absolute = glob.startswith("/")
    if absolute:
        parts = parts[1:]
    if None not in parts:
        size = len(parts)

        def aligned(path: str) -> bool:
            names = path.split("/")[1:] if absolute and path.startswith("/") else path.split("/")
            if len(names) < size or (absolute and len(names) != size):
                return False
            return all(p.match(n) for p, n in zip(parts, names[len(names) - size :], strict=True))

        return aligned
    steps = parts if absolute else [None, *parts]
    return lambda path: _glob(steps, path.split("/")[1:] if absolute else path.split("/"))


def _glob(parts: list[re.Pattern[str] | None], names: list[str]) -> bool:
    """Whether ``names`` match ``parts`` one by one, None standing for any number of names."""
    reached = [True] + [False] * len(names)  # which prefixes of names the parts so far match
    for part in parts:
        if part is None:
            reached = list(accumulate(reached, operator.or_))
        else:
            reached = [False] + [
                reached[j] and part.match(n) is not None for j, n in enumerate(names)
            ]
        if not any(reached):
            return False
    return reached[-1]


def read_date(value: str | date, name: str = "date", last: bool = False) -> date:
    """An ISO date (``2024-03-31``; a time after it is ignored), a month (``2024-03``) or a
    year (``2024``) as a day: the first of the month or year, or with ``last`` its last day.
    Raises :class:`FilterError` naming ``name`` for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    partial = _PARTIAL_DATE.fullmatch(text)
    if partial:
        year, month = int(partial[1]), int(partial[2] or (12 if last else 1))
        try:
            return date(year, month, calendar.monthrange(year, month)[1] if last else 1)
        except (ValueError, OverflowError):
            pass
    raise FilterError(f"{name}: {text[:40]!r} is not a date (give YYYY-MM-DD, YYYY-MM or YYYY)")


def read_where(value: str) -> tuple[str, str]:
    """``key=value`` as ``(key, value)``; raises :class:`FilterError` without ``=``, with an
    empty side, or a key that is not a metadata field's name."""
    key, sep, wanted = value.partition("=")
    key, wanted = key.strip(), wanted.strip()
    if not sep or not key or not wanted:
        raise FilterError(f"where: give KEY=VALUE, e.g. author=Ann (got {value[:40]!r})")
    if not _KEY.fullmatch(key):
        raise FilterError(
            f"where: {key[:40]!r} is not a field name (letters, digits, '_', '-', '.')"
        )
    return key, wanted

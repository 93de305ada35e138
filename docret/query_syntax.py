"""The query syntax a person already knows from web search, read out of a query's text:

- ``"a quoted phrase"``: every hit holds it as written (case and spacing aside);
- ``-word``: no hit holds the word (by its stem: ``-launch`` leaves out "launches" too);
  ``-"a phrase"``: no hit holds the phrase;
- ``field:value`` for ``type``, ``label``, ``path``, ``since`` and ``until``: a filter
  (:class:`~docret.filters.Filters`; ``label:"two words"`` quoted). Other names before a
  colon (``http://...``, ``re:``) stay plain words.

Everything else is free text, ranked as before, and a phrase's words are ranked with it. A
query with none of this syntax is handed on exactly as typed (:attr:`ParsedQuery.plain`), and
so is a text longer than :data:`MOST_TYPED_WORDS` words: a pasted paragraph or document, whose
quotes and dashes are punctuation, not operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from docret.filters import Filters

# The fields a query's text may filter on, with the parameter of Filters.parse each one sets.
FIELDS = ("type", "label", "path", "since", "until")
# Longer texts are pasted, not typed: a typed question has 5 to 12 words (docret.rank.calibrate's
# SPAN_WORDS), a question written as a paragraph about 50 (LISA's median is 49).
MOST_TYPED_WORDS = 32
# A piece of a query: a quoted phrase with what stands before it (``-``, ``label:``), or a
# run of other characters, or a lone quote.
_PIECE = re.compile(r'([^\s"]*)"([^"]*)"|[^\s"]+|"')
_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)


@dataclass(frozen=True)
class ParsedQuery:
    """A query's text taken apart: ``text`` is what the rankers rank (the free words and the
    phrases' words, in the order typed); ``phrases`` must all appear in a hit, ``unwanted``
    phrases and ``excluded`` words must not; ``fields`` are ``(name, value)`` filters, read
    by :attr:`filters`."""

    text: str
    phrases: tuple[str, ...] = ()
    unwanted: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = field(default=())

    @property
    def plain(self) -> bool:
        """Whether the query has no syntax at all (its ``text`` is the query as typed)."""
        return not (self.phrases or self.unwanted or self.excluded or self.fields)

    @cached_property
    def filters(self) -> Filters:
        """The ``field:value`` filters; raises :class:`~docret.errors.FilterError` for a
        value that cannot be read (``since:yesterday``)."""
        values: dict[str, list[str]] = {}
        for name, value in self.fields:
            values.setdefault(name, []).append(value)
        return Filters.parse(**values)


def parse(text: str) -> ParsedQuery:
    """``text`` taken apart (:class:`ParsedQuery`); never raises: a filter's value is read
    when :attr:`ParsedQuery.filters` is. A text of more than :data:`MOST_TYPED_WORDS` words
    is free text whole."""
    if len(text.split()) > MOST_TYPED_WORDS:
        return ParsedQuery(text)
    words: list[str] = []
    phrases: list[str] = []
    unwanted: list[str] = []
    excluded: list[str] = []
    fields: list[tuple[str, str]] = []
    for piece in _PIECE.finditer(text):
        before, quoted = piece.group(1), piece.group(2)
        if quoted is not None:
            named = _FIELD.fullmatch(before)
            if before == "-":
                unwanted.append(quoted)
            elif named and named[1].lower() in FIELDS and not named[2]:
                fields.append((named[1].lower(), quoted))
            elif before == "" and quoted.strip():
                phrases.append(quoted)
                words.append(quoted)
            else:
                words.append(piece.group(0))
            continue
        token = piece.group(0)
        named = _FIELD.fullmatch(token)
        if named and named[1].lower() in FIELDS and named[2]:
            fields.append((named[1].lower(), named[2]))
        elif len(token) > 1 and token[0] == "-" and token[1].isalpha():
            excluded.append(token[1:])
        else:
            words.append(token)
    parsed = ParsedQuery(
        " ".join(words), tuple(phrases), tuple(unwanted), tuple(excluded), tuple(fields)
    )
    return ParsedQuery(text) if parsed.plain else parsed


def ranked_text(text: str) -> str:
    """The part of ``text`` the rankers rank (:attr:`ParsedQuery.text`): the query as typed
    when it has no syntax."""
    return parse(text).text

"""What a hit shows of its document: the passage that best answers the query, its words marked.

The passage is a window of about :data:`SNIPPET_CHARS` characters that starts at a sentence or
a line. Each window that holds a query word is scored by the idf of the distinct query stems it
holds, so the rare words win, and the best one is shown (of equals, the one whose first word is
the rarest, then the earliest). Words are matched by stem with the index's own analyzer:
"engines" is marked for the query "engine".
Only the first :data:`SCAN_CHARS` characters of a document's body are scanned, so that a book
costs what a chapter does. A document without a query word there (a hit found by meaning alone)
shows its first lines, as every hit without a query does (:func:`first_lines`).

The text is never tokenized whole: each query stem's first letters are looked for at the
starts of words with ``bytes.find``, a C loop, in a copy of the text whose every character but
an ASCII letter is a space, and only the words that start with them are stemmed (looked up
among the words the index knows). Of the 138,899 distinct words of the six English shared
collections, each starts with its Porter and its Snowball stem, but for the stem's last letter
where that is "i", "e", "l" or "y" ("history": "histori", "making": "make", "ability": "abil"),
and but for "dying", "lying" and "tying" ("die", "lie", "tie"): so a stem is looked for without
such a last letter, and no word is missed but those three (found where the query has that very
form). A word first seen in a document added after the build, which the index's known words
lack, is stemmed only when the query needed the stemmer too: the stemmer's import takes about a
second, which a query of known words never pays. What snippets add to a query's time:
bench/RESULTS.md, section "Snippets".
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from docret.corpus import body_of

if TYPE_CHECKING:
    from docret.snapshot import Snapshot
    from docret.text import Analyzer

SNIPPET_CHARS = 160
SCAN_CHARS = 200_000  # of a document's body searched for the query's words
MAX_SPANS = 1_000  # query words of one document whose windows are scored
MAX_MARKS = 10_000  # query words marked on a document's page

_SENTENCE_END = re.compile(r"(?:[.!?][\"')\]]*|\n\s*\n)\s*$")
_CHANGED_LAST = frozenset("iely")  # last letters of a stem that its words may lack
_SPACE = re.compile(r"\s+")
_NON_SPACE = re.compile(r"\S")
_LETTERS = re.compile(r"[^\W\d_]+")  # docret.text.TOKEN_PATTERN's letters
# ASCII letters lower-cased, every other byte a space
_ASCII_LOWER = bytes(c | 32 if 65 <= c <= 90 or 97 <= c <= 122 else 32 for c in range(256))

Span = tuple[int, int]


class Snippet(NamedTuple):
    """What a hit shows: ``text`` (whitespace collapsed, a cut marked ``…``), the query's words
    in it (``highlights``, character offsets into ``text``) and where it starts in the
    document's text (``start``; :func:`passage_end` tells where it ends)."""

    text: str
    highlights: tuple[Span, ...] = ()
    start: int = 0


class QueryTerms:
    """A query's stems with their weights, and the words of a text that have one of them."""

    def __init__(
        self,
        analyzer: Analyzer,
        weights: Mapping[str, float],
        prefixes: Iterable[str],
        *,
        stem_unknown: bool = False,
    ) -> None:
        self.analyzer = analyzer
        self.weights = dict(weights)  # stem -> idf
        # in millionths: sums of whole numbers are the same in any order
        self.units = {stem: round(w * 1e6) for stem, w in self.weights.items()}
        self.prefixes: list[str] = []  # a prefix that starts with another finds nothing more
        for prefix in sorted(set(prefixes)):
            if not self.prefixes or not prefix.startswith(self.prefixes[-1]):
                self.prefixes.append(prefix)
        # what bytes.find looks for in find's ``letters``: a space, then the prefix
        self._needles = [b" " + p.encode("ascii") if p.isascii() else None for p in self.prefixes]
        self.stem_unknown = stem_unknown  # stem words the index does not know
        self._seen: dict[str, str | None] = {}  # words looked up, with their query stems
        self._seen_ascii: dict[bytes, str | None] = {}  # the same, of ASCII words

    @classmethod
    def of(cls, state: Snapshot, text: str) -> QueryTerms | None:
        """The terms of the query ``text``, analysed like the documents of ``state``; None when
        it has no word but stop words."""
        analyzer = state.vectorizer.analyzer
        words = [w for w in dict.fromkeys(analyzer.tokens(text)) if w not in analyzer.stop_words]
        if not words:
            return None
        stems = {w: analyzer.stem(w) for w in words}
        prefixes = []
        for word, stem in stems.items():
            n = max(2, len(stem) - (stem[-1] in _CHANGED_LAST))
            prefixes += [stem[:n], word[:n]]
        # a text may write an accent as a letter and a combining mark
        prefixes += [unicodedata.normalize("NFD", p) for p in prefixes if not p.isascii()]
        vocabulary = state.vectorizer.term_index
        return cls(
            analyzer,
            _weights(state, set(stems.values())),
            prefixes,
            # such a stem came from a word the index does not know: the stemmer is loaded
            stem_unknown=any(s not in vocabulary for s in stems.values()),
        )

    def find(
        self, text: str, lo: int = 0, hi: int | None = None, limit: int = MAX_SPANS
    ) -> list[tuple[int, int, str]]:
        """The first ``limit`` words of ``text[lo:hi]`` whose stem is a query stem, in text
        order: (start, end, stem), offsets into ``text``.

        ``letters`` is one space and then the text's characters, an ASCII letter lower-cased,
        every other character a space: a word starting with an ASCII prefix is found by
        bytes.find at its start (a space and the prefix), never inside an ASCII word, and ends
        at the next space, unless a letter outside ASCII is next to it."""
        part = text[lo:hi]
        letters = b" " + part.encode("ascii", "replace").translate(_ASCII_LOWER)
        plain, size = part.isascii(), len(part)
        found: list[tuple[int, int, str]] = []
        seen, seen_ascii, stem_of = self._seen, self._seen_ascii, self.stem_of
        low = None  # the text lower-cased, for a prefix outside ASCII
        for prefix, needle in zip(self.prefixes, self._needles, strict=True):
            if needle is None:
                low = _lowered(part) if low is None else low
                for i, end in _words_from(low, prefix):
                    word = part[i:end].lower()
                    if word not in seen:
                        seen[word] = stem_of(word)
                    if seen[word] is not None:
                        found.append((lo + i, lo + end, seen[word]))
                continue
            i = letters.find(needle)  # the word starts at part[i]
            while i >= 0:
                if not plain and i and part[i - 1] > "\x7f" and _in_word(part[i - 1]):
                    # after a letter outside ASCII
                    i = letters.find(needle, i + 1)
                    continue
                end = letters.find(b" ", i + 1) - 1
                end = size if end < 0 else end
                if not plain and end < size and part[end] > "\x7f" and _in_word(part[end]):
                    # the word goes on in letters outside ASCII
                    end = _word_end(part, i)
                    word = part[i:end].lower()
                    if word not in seen:
                        seen[word] = stem_of(word)
                    stem = seen[word]
                else:
                    ascii_word = letters[i + 1 : end + 1]
                    if ascii_word not in seen_ascii:
                        seen_ascii[ascii_word] = stem_of(ascii_word.decode("ascii"))
                    stem = seen_ascii[ascii_word]
                if stem is not None:
                    found.append((lo + i, lo + end, stem))
                i = letters.find(needle, end)
        found.sort()
        return found[:limit]

    def stem_of(self, word: str) -> str | None:
        """The query stem of a lower-cased word, or None."""
        if not word.isascii() and not unicodedata.is_normalized("NFC", word):
            word = unicodedata.normalize("NFC", word)
        analyzer = self.analyzer
        if word in analyzer.stop_words:
            return None
        stem = analyzer.known(word)
        if stem is None and self.stem_unknown:
            stem = analyzer.stem(word)
        return stem if stem in self.weights else None


def _weights(state: Snapshot, stems: set[str]) -> dict[str, float]:
    """Each stem's idf (``ln((1 + n) / (1 + df)) + 1``): over every stem of the documents where
    a ranking has read BM25's counts, else over the model's vocabulary, a stem outside it
    counting as the rarest (the vocabulary keeps the most frequent stems)."""
    lexical = state.__dict__.get("lexical")  # Snapshot.lexical, only if already read
    if lexical is not None:
        n, df = lexical.counts.n_documents, lexical.document_frequency
        ids = {s: lexical.lexicon.get(s) for s in stems}
        return {s: _idf(0 if j is None else int(df[j]), n) for s, j in ids.items()}
    vectorizer = state.vectorizer
    rarest = float(vectorizer.idf.max()) if len(vectorizer.idf) else 1.0
    ids = {s: vectorizer.term_index.get(s) for s in stems}
    return {s: rarest if j is None else float(vectorizer.idf[j]) for s, j in ids.items()}


def _idf(df: int, n: int) -> float:
    return math.log((1.0 + n) / (1.0 + df)) + 1.0


def _lowered(text: str) -> str:
    """``text`` lower-cased, each character to one (offsets stay those of ``text``)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)  # "İ", rarely


def _words_from(low: str, prefix: str) -> Iterator[Span]:
    """(start, end) of each word of the lower-cased text ``low`` that starts with ``prefix``."""
    i = low.find(prefix)
    while i >= 0:
        if not (i and _in_word(low[i - 1])):  # not inside a word
            yield i, _word_end(low, i)
        i = low.find(prefix, i + 1)


def _in_word(c: str) -> bool:
    """Whether the character ``c`` belongs to a word (a letter, or a mark on one)."""
    return c.isalpha() or unicodedata.category(c)[0] == "M"


def _letters_end(low: str, i: int) -> int:
    """Where the letters starting at ``i`` end."""
    m = _LETTERS.match(low, i)
    return m.end() if m else i


def _word_end(text: str, i: int) -> int:
    """Where the word starting at ``i`` ends: after its letters and the combining marks
    written on them (as :meth:`~docret.text.Analyzer.tokens` reads it)."""
    end = _letters_end(text, i)
    while end < len(text) and unicodedata.category(text[end])[0] == "M":
        end += 1
        m = _LETTERS.match(text, end)
        end = m.end() if m else end
    return end


def shown(text: str, title: str | None, terms: QueryTerms | None) -> Snippet:
    """What a hit shows of a document: the passage that best answers the query of ``terms``
    (:func:`best_passage`), else its first lines."""
    floor = body_start(text, title)
    found = _passage(text, floor, terms, SNIPPET_CHARS) if terms is not None else None
    return found or Snippet(_cut(text, floor, SNIPPET_CHARS, floor)[0], (), floor)


def best_passage(
    text: str, title: str | None, terms: QueryTerms, length: int = SNIPPET_CHARS
) -> Snippet | None:
    """The window of the first :data:`SCAN_CHARS` characters of the document's body that holds
    the rarest query words, with them marked; None when none holds a query word."""
    return _passage(text, body_start(text, title), terms, length)


def _passage(text: str, floor: int, terms: QueryTerms, length: int) -> Snippet | None:
    """:func:`best_passage` of the body starting at ``floor``."""
    spans = terms.find(text, floor, floor + SCAN_CHARS)
    if not spans:
        return None
    at = _window_start(text, _best_span(spans, terms.units, length), length, floor)
    snippet, kept = _cut(text, at, length, floor)
    lead = 1 if snippet.startswith("…") else 0
    looked = floor + SCAN_CHARS if len(spans) < MAX_SPANS else spans[-1][0]
    if at + kept <= looked and text.startswith(snippet[lead : lead + kept], at):
        # no whitespace collapsed: the words found are at the same offsets, less ``at``
        spans = spans[bisect_left(spans, (at,)) : bisect_left(spans, (at + kept + 1,))]
        words = tuple((lead + s - at, lead + e - at) for s, e, _ in spans if e <= at + kept)
    else:
        words = tuple((s, e) for s, e, _ in terms.find(snippet, lead, lead + kept))
    return Snippet(snippet, words, at)


def _best_span(spans: list[tuple[int, int, str]], units: Mapping[str, int], length: int) -> int:
    """Where the query word starts whose window holds the rarest query words (``units``: each
    stem's idf in millionths), of equals the rarest word, of those the first. A window starts
    at most half its length before its word, so the words up to half a length after that word
    are scored: they are shown whatever the window's start."""
    if len(spans) == 1:
        return spans[0][0]
    reach = length // 2
    counts: dict[str, int] = {}
    score, best, best_unit, best_at = 0, -1, -1, spans[0][0]
    j, n = 0, len(spans)  # spans[i:j] are the words scored for spans[i]
    for i, (start, _, stem) in enumerate(spans):
        if j < i:  # every word before spans[i] has left the window
            j = i
        while j < n and spans[j][1] <= start + reach:
            added = spans[j][2]
            held = counts.get(added, 0)
            if not held:
                score += units[added]
            counts[added] = held + 1
            j += 1
        if score > best or score == best and units[stem] > best_unit:
            best, best_unit, best_at = score, units[stem], start
        if j > i:  # spans[i] leaves the window of the next word
            counts[stem] -= 1
            if not counts[stem]:
                score -= units[stem]
    return best_at


def first_lines(text: str, title: str | None = None, length: int = SNIPPET_CHARS) -> Snippet:
    """The start of the document's body (:func:`~docret.corpus.body_of`), unmarked."""
    floor = body_start(text, title)
    return Snippet(_cut(text, floor, length, floor)[0], (), floor)


def body_start(text: str, title: str | None = None) -> int:
    """Where the document's body (:func:`~docret.corpus.body_of`) starts in ``text``: the body
    is always the end of the text without its trailing whitespace."""
    return len(text.rstrip()) - len(body_of(text, title))


def _window_start(text: str, at: int, length: int, floor: int) -> int:
    """Where the window of a query word at ``at`` starts: at the last sentence or line start
    up to half a window before it, else at a word about a quarter of a window before it."""
    lo = max(floor, at - length // 2)
    # the last sentence or line end
    end = max(text.rfind("\n", lo, at), text.rfind(". ", lo, at), text.rfind("? ", lo, at))
    end = max(end, text.rfind("! ", lo, at))
    if end >= 0:
        start = _NON_SPACE.search(text, end + 1, at)
        return start.start() if start else at
    if lo == floor:
        return floor
    space = _SPACE.search(text, max(lo, at - length // 4), at)
    return space.end() if space else at


def _cut(text: str, at: int, length: int, floor: int) -> tuple[str, int]:
    """The snippet's text from ``at`` (:func:`_kept`), ``…`` before it too when it starts
    inside a sentence; and how many characters of the text it shows."""
    kept, more = _kept(text[at : at + length * 2], length)
    if not more and at + length * 2 < len(text):  # much whitespace: 4 x length, as ever
        kept, more = _kept(text[at : at + length * 4], length)
    lead = "…" if at > floor and not _SENTENCE_END.search(text, max(floor, at - 16), at) else ""
    return lead + kept + ("…" if more else ""), len(kept)


def _kept(raw: str, length: int) -> tuple[str, bool]:
    """``raw`` with its whitespace collapsed, cut at a word before ``length`` characters (or
    at ``length`` inside a long word), and whether it was cut."""
    body = " ".join(raw.split())  # as re.sub(r"\s+", " "), about 4x faster
    if len(body) <= length:
        return body, False
    space = body.rfind(" ", 0, length)
    return body[: space if space > length // 2 else length], True


def passage_end(text: str, start: int, length: int = SNIPPET_CHARS) -> int:
    """Where the text that the snippet starting at ``start`` shows ends."""
    # a whole long document collapsed would cost more than the rest of a query: 4 x length
    raw = text[start : start + length * 4]
    words = _kept(raw, length)[0].split(" ")
    return start + _words(len(words) - 1).match(raw).end() + len(words[-1])


@lru_cache(maxsize=256)
def _words(n: int) -> re.Pattern:
    """Leading whitespace and ``n`` words, each with the whitespace after it."""
    return re.compile(r"\s*(?:\S+\s+){" + str(n) + "}")


def marks(
    state: Snapshot, text: str, title: str | None, query: str
) -> tuple[list[Span], Span | None]:
    """A document's page: the first :data:`MAX_MARKS` of the query's words in its whole text,
    and the passage its hit shows (start, end), None without one."""
    terms = QueryTerms.of(state, query) if query.strip() else None
    if terms is None:
        return [], None
    found = best_passage(text, title, terms)
    spans = [(s, e) for s, e, _ in terms.find(text, limit=MAX_MARKS)]
    return spans, (found.start, passage_end(text, found.start)) if found is not None else None

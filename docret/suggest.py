""" "Did you mean": for the words of a query that no indexed document holds, the closest words
that some do.

A word's stem is compared with the stems of the index's lexicon (every stem BM25 ranks by) of
the same first letter and a length within :data:`MAX_EDITS` of its own, all of them at once as
one numpy array, by optimal string alignment distance (an edit is a letter added, dropped or
changed, or two neighbouring letters swapped). Of those within :data:`MAX_EDITS` edits, the one
held by most documents wins, each edit dividing its count by :data:`EDIT_PENALTY`: a word a
thousand documents hold two edits away beats a typo three documents hold one edit away. A
suggestion is shown as the shortest word seen for its stem.
"""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from docret.query_syntax import ranked_text

if TYPE_CHECKING:
    from docret.lexicon import LexicalIndex
    from docret.snapshot import Snapshot

MAX_EDITS = 2
EDIT_PENALTY = 30.0
SHORTEST = 3  # shorter words get no suggestion: too many words are two edits from them
LONGEST = 30  # nor do longer ones (pasted codes, URLs)

# Each lexicon's stems grouped by first letter, made on first use and kept with the lexicon.
_GROUPS: weakref.WeakKeyDictionary[LexicalIndex, dict[str, Any]] = weakref.WeakKeyDictionary()


class Group:
    """The words standing for a lexicon's stems that start with one letter: the words, their
    term ids, lengths and letters as a padded array of code points (-1 past a word's end)."""

    def __init__(self, words: list[str], ids: list[int]) -> None:
        self.words = words
        self.ids = np.array(ids, dtype=np.int64)
        self.lengths = np.array([len(w) for w in words], dtype=np.int64)
        n, total = len(words), int(self.lengths.sum())
        self.letters = np.full((n, int(self.lengths.max(initial=0))), -1, dtype=np.int32)
        codes = np.frombuffer("".join(words).encode("utf-32-le"), dtype="<u4").astype(np.int32)
        starts = np.repeat(np.cumsum(self.lengths) - self.lengths, self.lengths)
        self.letters[np.repeat(np.arange(n), self.lengths), np.arange(total) - starts] = codes


def group(state: Snapshot, letter: str) -> Group | None:
    """The words of :data:`SHORTEST` - :data:`MAX_EDITS` to :data:`LONGEST` +
    :data:`MAX_EDITS` letters standing for the stems of ``state``'s lexicon that start with
    ``letter`` (the lexicon is split by first letter once, each group made on first use)."""
    lexical = state.lexical
    groups = _GROUPS.get(lexical)
    if groups is None:
        shown = state.shortest_word
        by_letter: dict[str, tuple[list[str], list[int]]] = {}
        for j, term in enumerate(lexical.terms):
            word = shown.get(term, term)
            if SHORTEST - MAX_EDITS <= len(word) <= LONGEST + MAX_EDITS:
                words, ids = by_letter.setdefault(word[0], ([], []))
                words.append(word)
                ids.append(j)
        groups = _GROUPS[lexical] = dict(by_letter)
    found = groups.get(letter)
    if isinstance(found, tuple):
        found = groups[letter] = Group(*found)
    return found


def edit_distances(word: str, letters: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Optimal string alignment distance of ``word`` to each row of ``letters`` (code points,
    -1 padded; ``lengths`` long): one dynamic programme over all rows at once."""
    n, width = letters.shape
    w = [ord(c) for c in word]
    before = None
    previous = np.tile(np.arange(width + 1, dtype=np.int64), (n, 1))
    for i in range(1, len(w) + 1):
        current = np.empty_like(previous)
        current[:, 0] = i
        for j in range(1, width + 1):
            changed = previous[:, j - 1] + (letters[:, j - 1] != w[i - 1])
            best = np.minimum(np.minimum(previous[:, j], current[:, j - 1]) + 1, changed)
            if before is not None and j > 1:
                swapped = (letters[:, j - 2] == w[i - 1]) & (letters[:, j - 1] == w[i - 2])
                best = np.where(swapped, np.minimum(best, before[:, j - 2] + 1), best)
            current[:, j] = best
        before, previous = previous, current
    return previous[np.arange(n), lengths]


def closest(state: Snapshot, word: str) -> str | None:
    """The word that best stands in for ``word`` (see the module's rules), or None when none
    is within :data:`MAX_EDITS` edits."""
    found = group(state, word[:1]) if SHORTEST <= len(word) <= LONGEST else None
    if found is None:
        return None
    near = np.flatnonzero(np.abs(found.lengths - len(word)) <= MAX_EDITS)
    if not len(near):
        return None
    width = min(found.letters.shape[1], len(word) + MAX_EDITS)
    edits = edit_distances(word, found.letters[near, :width], found.lengths[near])
    df = state.lexical.document_frequency[found.ids[near]]
    weight = np.where((edits <= MAX_EDITS) & (edits > 0) & (df > 0), df, 0) / (
        EDIT_PENALTY ** edits.astype(np.float64)
    )
    best = int(np.argmax(weight))
    return found.words[near[best]] if weight[best] > 0 else None


def did_you_mean(state: Snapshot, text: str) -> str | None:
    """``text`` with each word no document holds replaced by the closest word some do hold
    (:func:`closest`), or None where no word was replaced."""
    analyzer = state.vectorizer.analyzer
    lexical = state.lexical
    out, changed = text, False
    for word in dict.fromkeys(analyzer.tokens(ranked_text(text))):
        if word in analyzer.stop_words or lexical.has(analyzer.stem(word)):
            continue
        shown = closest(state, word)
        if shown is None:
            continue
        out = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", shown, out, flags=re.IGNORECASE)
        changed = True
    return out if changed else None

"""Text to bag-of-words: tokenizer, stemmer, stop words and tf-idf weighting.

Two halves share one :class:`Analyzer`. At index time :func:`count_vectorizer` builds a
scikit-learn ``CountVectorizer`` that picks the vocabulary; at query time
:class:`QueryVectorizer` maps text onto the stored vocabulary with numpy alone, so that the
query path never imports scikit-learn. Both weight counts with :func:`weight_counts`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Words of two or more letters; digits and underscores split words, so "v2" and "2024" vanish
# (numbers rarely carry topic meaning and otherwise flood the vocabulary).
TOKEN_PATTERN = r"[^\W\d_]{2,}"
STEMMERS = ("porter", "snowball", "none")


def english_stop_words() -> list[str]:
    """scikit-learn's English stop-word list, sorted (imported only at index time)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS)


class Analyzer:
    """Lower-case, tokenize with NLTK's ``RegexpTokenizer``, drop stop words, stem.

    The stemmer's answers are cached per surface word: a corpus has far fewer distinct words
    than tokens, and stemming is the slow part. The cache can be seeded (``known``) with the
    words an index has seen, so that a query of known words never loads NLTK, whose import
    alone takes about a second. The analyzer is fully described by :meth:`to_dict`, which the
    index stores so a query is analysed exactly like the documents.
    """

    def __init__(
        self,
        *,
        stemmer: str = "porter",
        stop_words: Iterable[str] = (),
        known: dict[str, str] | None = None,
    ) -> None:
        if stemmer not in STEMMERS:
            raise ValueError(f"stemmer must be one of {', '.join(STEMMERS)}, not {stemmer!r}")
        self.stemmer = stemmer
        self.stop_words = frozenset(stop_words)
        self._regex = re.compile(TOKEN_PATTERN)
        self._stem = None
        self._cache: dict[str, str] = dict(known or {})

    @staticmethod
    def _make_stemmer(name: str):
        if name == "none":
            return lambda word: word
        # NLTK is imported here, not at module level: its import costs about a second.
        if name == "porter":
            from nltk.stem.porter import PorterStemmer

            return PorterStemmer().stem
        from nltk.stem.snowball import SnowballStemmer

        return SnowballStemmer("english").stem

    def tokens(self, text: str) -> list[str]:
        """Lower-cased word tokens of ``text``, stop words included."""
        return self._regex.findall(text.lower())

    def stem(self, word: str) -> str:
        """The stem of one lower-cased word (cached)."""
        stem = self._cache.get(word)
        if stem is None:
            if self._stem is None:
                self._stem = self._make_stemmer(self.stemmer)
            stem = self._cache[word] = self._stem(word)
        return stem

    def stems_seen(self) -> dict[str, str]:
        """Every word stemmed so far, with its stem."""
        return dict(self._cache)

    def __call__(self, text: str) -> list[str]:
        stop = self.stop_words
        return [self.stem(w) for w in self.tokens(text) if w not in stop]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description from which :meth:`from_dict` rebuilds the same analyzer."""
        return {
            "token_pattern": TOKEN_PATTERN,
            "stemmer": self.stemmer,
            "stop_words": sorted(self.stop_words),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], known: dict[str, str] | None = None) -> Analyzer:
        """Rebuild an analyzer stored with :meth:`to_dict`, its cache seeded with ``known``."""
        return cls(stemmer=data["stemmer"], stop_words=data["stop_words"], known=known)


def count_vectorizer(
    analyzer: Analyzer, *, vocab_size: int, min_df: int | float, max_df: int | float
):
    """A scikit-learn ``CountVectorizer`` keeping the ``vocab_size`` most frequent terms."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        analyzer=analyzer,
        max_features=vocab_size,
        min_df=min_df,
        max_df=max_df,
        dtype=np.float32,
    )


def inverse_document_frequency(df: np.ndarray, n_documents: int) -> np.ndarray:
    """Smoothed idf, as scikit-learn computes it: ``ln((1 + n) / (1 + df)) + 1``."""
    return (np.log((1.0 + n_documents) / (1.0 + df)) + 1.0).astype(np.float32)


def weight_counts(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Sublinear tf-idf of one document's non-zero counts, L2-normalised."""
    w = (1.0 + np.log(counts)) * idf
    norm = float(np.sqrt(np.dot(w, w)))
    return (w / norm if norm > 0 else w).astype(np.float32)


def tfidf_matrix(counts, idf: np.ndarray):
    """Row-wise :func:`weight_counts` over a scipy CSR count matrix, as a new CSR matrix."""
    x = counts.tocsr().astype(np.float32, copy=True)
    x.sort_indices()
    x.data = (1.0 + np.log(x.data)) * idf[x.indices]
    row_len = np.diff(x.indptr)
    if x.nnz:
        # Summed over the rows that have words only: reduceat gives garbage for an empty row
        # and rejects one that starts at the end of the data; empty rows have nothing to scale.
        filled = row_len > 0
        norms = np.ones(len(row_len), dtype=np.float32)
        norms[filled] = np.sqrt(np.add.reduceat(x.data**2, x.indptr[:-1][filled]))
        x.data /= np.repeat(norms, row_len).astype(np.float32)
    return x


@dataclass
class SparseVector:
    """A bag-of-words vector over the stored vocabulary, plus the words it could not place."""

    indices: np.ndarray  # int32, sorted
    values: np.ndarray  # float32 tf-idf weights, L2-normalised
    unknown: list[str] = field(default_factory=list)
    stop_words: list[str] = field(default_factory=list)
    n_unknown: int = 0  # tokens (not distinct words) outside the vocabulary
    n_known: int = 0  # tokens inside it


class QueryVectorizer:
    """Map text onto a stored vocabulary and idf with numpy alone (no scikit-learn)."""

    def __init__(self, analyzer: Analyzer, vocabulary: Sequence[str], idf: np.ndarray) -> None:
        self.analyzer = analyzer
        self.terms = list(vocabulary)
        self.term_index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float32)

    def transform_one(self, text: str) -> SparseVector:
        """Vectorise one text; words outside the vocabulary are reported, not dropped silently."""
        counts: dict[int, int] = {}
        unknown: list[str] = []
        stops: list[str] = []
        for word in self.analyzer.tokens(text):
            if word in self.analyzer.stop_words:
                stops.append(word)
                continue
            j = self.term_index.get(self.analyzer.stem(word))
            if j is None:
                unknown.append(word)
            else:
                counts[j] = counts.get(j, 0) + 1
        idx = np.array(sorted(counts), dtype=np.int32)
        c = np.array([counts[j] for j in idx], dtype=np.float32)
        values = weight_counts(c, self.idf[idx]) if len(idx) else np.zeros(0, np.float32)
        return SparseVector(
            idx,
            values,
            list(dict.fromkeys(unknown)),
            list(dict.fromkeys(stops)),
            n_unknown=len(unknown),
            n_known=int(c.sum()),
        )

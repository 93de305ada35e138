"""Text to bag-of-words: tokenizer, stemmer, stop words and tf-idf weighting.

Two halves share one :class:`Analyzer`. At index time :func:`select_vocabulary` picks the
vocabulary from the counts of every term, by the rules of the scikit-learn
``CountVectorizer`` that :func:`count_vectorizer` makes (the reference it is tested
against); at query time :class:`QueryVectorizer` maps text onto the stored vocabulary with
numpy alone, so that the query path never imports scikit-learn. Both weight counts with
:func:`weight_counts`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Integral, Real
from typing import Any

import numpy as np

# Words of two or more letters; digits and underscores split words, so "v2" and "2024" vanish
# (numbers rarely carry topic meaning and otherwise flood the vocabulary).
TOKEN_PATTERN = r"[^\W\d_]{2,}"
STEMMERS = ("porter", "snowball", "none")


@lru_cache(maxsize=256)
def _marked_pattern(marks: str) -> re.Pattern:
    """TOKEN_PATTERN where each letter may carry any of the combining ``marks`` (accents that
    NFC could not compose onto their letter, vowel signs of Indic scripts): a mark belongs to
    the word it is written on, and counts as no letter of its own."""
    group = "[" + re.escape(marks) + "]*"
    return re.compile(r"(?:[^\W\d_]" + group + "){2,}")


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
        """Lower-cased word tokens of ``text``, stop words included.

        Text that is not ASCII is normalised to NFC after lower-casing, so that an accent
        typed as a letter plus a combining mark (``e`` + U+0301) gives the same word as the
        composed letter (``é``), and combining marks left over stay inside their word. ASCII
        text takes the path it always took: its tokens, and so every English index's
        vocabulary and figures, are unchanged.
        """
        text = text.lower()
        if text.isascii():
            return self._regex.findall(text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        marks = "".join(
            sorted(c for c in set(text) if not c.isascii() and unicodedata.category(c)[0] == "M")
        )
        return (_marked_pattern(marks) if marks else self._regex).findall(text)

    def known(self, word: str) -> str | None:
        """The stem of one lower-cased word if it is known (seeded or stemmed before), else
        None; never loads the stemmer."""
        return self._cache.get(word)

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
    """A scikit-learn ``CountVectorizer`` keeping the ``vocab_size`` most frequent terms: the
    reference :func:`select_vocabulary` follows."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        analyzer=analyzer,
        max_features=vocab_size,
        min_df=min_df,
        max_df=max_df,
        dtype=np.float32,
    )


def select_vocabulary(
    terms: Sequence[str],
    indptr: np.ndarray,
    indices: np.ndarray,
    counts: np.ndarray,
    *,
    vocab_size: int,
    min_df: int | float,
    max_df: int | float,
):
    """The vocabulary ``count_vectorizer`` would learn, and the documents' counts over it.

    Takes every document's counts over all its ``terms`` (CSR parts, as
    :func:`docret.lexicon.count_corpus` gives them) instead of the texts, so that the corpus
    is analysed once, in chunks, for both the model and BM25, and a million documents never
    pass through scikit-learn's per-token Python lists. Follows ``CountVectorizer``'s rules
    step for step (terms sorted, document-frequency bounds, the ``vocab_size`` most frequent
    terms with its tie order) so that both give the same vocabulary and the same matrix.
    Returns the terms in vocabulary order and a float32 CSR matrix; raises ValueError when no
    term is left.
    """
    import scipy.sparse as sp

    _check_df("min_df", min_df)
    _check_df("max_df", max_df)
    n_docs = len(indptr) - 1
    if not len(terms):
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    high = max_df if isinstance(max_df, Integral) else max_df * n_docs
    low = min_df if isinstance(min_df, Integral) else min_df * n_docs
    if high < low:
        raise ValueError("max_df corresponds to < documents than min_df")
    # scikit-learn sorts the terms first: statistics per term, in that order
    order = np.array(sorted(range(len(terms)), key=terms.__getitem__), dtype=np.int64)
    dfs = np.bincount(indices, minlength=len(terms))[order]
    mask = (dfs <= high) & (dfs >= low)
    if mask.sum() > vocab_size:
        # scikit-learn's totals are float32, argsorted (not a stable sort): the same array
        # and call give the same order among equal totals.
        tfs = np.bincount(indices, weights=counts, minlength=len(terms))[order]
        keep = (-tfs.astype(counts.dtype)[mask]).argsort()[:vocab_size]
        chosen = np.zeros(len(terms), dtype=bool)
        chosen[np.flatnonzero(mask)[keep]] = True
        mask = chosen
    if not mask.any():
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    vocabulary = [terms[j] for j in order[mask]]
    new_id = np.full(len(terms), -1, dtype=np.int32)  # first-seen id -> vocabulary id
    new_id[order[mask]] = np.arange(len(vocabulary), dtype=np.int32)
    ids = new_id[indices]  # int32 throughout: a million documents have ~10^8 entries
    kept = ids >= 0
    kept_before = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    # Within a row the entries stay in the order of their terms' first appearance in the
    # corpus, as scikit-learn leaves them: the same arrays, so the same training, bit for bit.
    return vocabulary, sp.csr_matrix(
        (
            counts[kept].astype(np.float32, copy=False),
            ids[kept],
            kept_before[indptr],
        ),
        shape=(n_docs, len(vocabulary)),
    )


def _check_df(name: str, value: int | float) -> None:
    """scikit-learn's bounds on a document-frequency setting: a count >= 1 or a share in
    [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number, not {value!r}")
    whole = isinstance(value, Integral)
    if whole and value < 1 or not whole and not 0 <= value <= 1:
        raise ValueError(f"{name} must be a whole number of documents >= 1 or a share in [0, 1]")


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

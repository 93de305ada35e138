"""What a code stands for: the decoder turns a code back into weights over the vocabulary,
shown without the corpus-wide word frequencies, each stem as the shortest word seen for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from docret.rank.base import top_k, vectorize

if TYPE_CHECKING:
    from docret.snapshot import Snapshot


def query_words(state: Snapshot, text: str, k: int = 10) -> list[tuple[str, float]]:
    """The words the query's code stands for, by weight."""
    code = state.encoder.encode([vectorize(state, text)])[0]
    return top_words(state, state.decoder.word_weights(code)[0], k)


def document_words(state: Snapshot, row: int, k: int = 10) -> list[tuple[str, float]]:
    """The words the code of the stored document at ``row`` stands for, by weight."""
    return top_words(state, state.decoder.word_weights(state.codes[row])[0], k)


def shared_words(state: Snapshot, text: str, row: int, k: int = 5) -> list[tuple[str, float]]:
    """Words that both the query's code and the code at ``row`` stand for (the smaller of the
    two weights, so a word must matter to both)."""
    code = state.encoder.encode([vectorize(state, text)])[0]
    weights = state.decoder.word_weights(np.stack([code, state.codes[row]]))
    return top_words(state, weights.min(axis=0), k)


def top_words(state: Snapshot, weights: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The ``k`` heaviest of ``weights`` (one per vocabulary term), as shown words."""
    terms, shown = state.vectorizer.terms, state.shortest_word
    return [(shown.get(terms[j], terms[j]), float(weights[j])) for j in top_k(weights, k)]

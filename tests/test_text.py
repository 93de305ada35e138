import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from docret.text import (
    Analyzer,
    QueryVectorizer,
    count_vectorizer,
    english_stop_words,
    inverse_document_frequency,
    tfidf_matrix,
)

DOCS = [
    "The rockets were launched into orbit.",
    "A rocket launch, then orbiting satellites!",
    "Bake the bread; baking needs flour.",
    "Flour and butter: the baker's basics 2024.",
]


@pytest.fixture()
def analyzer():
    return Analyzer(stop_words=english_stop_words())


def test_analyzer_lowercases_drops_stop_words_numbers_and_stems(analyzer):
    assert analyzer("The Rockets were LAUNCHED in 2024, v2!") == ["rocket", "launch"]


def test_analyzer_round_trips_through_dict(analyzer):
    again = Analyzer.from_dict(analyzer.to_dict())
    assert again("Orbiting satellites") == analyzer("Orbiting satellites")
    assert Analyzer(stemmer="none")("rockets") == ["rockets"]
    with pytest.raises(ValueError, match="stemmer"):
        Analyzer(stemmer="bogus")


def test_idf_and_weighting_match_scikit_learn(analyzer):
    counts = count_vectorizer(analyzer, vocab_size=100, min_df=1, max_df=1.0).fit(DOCS)
    x = counts.transform(DOCS)
    df = np.bincount(x.indices, minlength=x.shape[1])
    ours = tfidf_matrix(x, inverse_document_frequency(df, len(DOCS))).toarray()
    ref = TfidfVectorizer(
        analyzer=analyzer, vocabulary=counts.vocabulary_, sublinear_tf=True
    ).fit_transform(DOCS)
    np.testing.assert_allclose(ours, ref.toarray(), atol=1e-6)


def test_query_vectorizer_equals_index_time_vectors(analyzer):
    counts = count_vectorizer(analyzer, vocab_size=100, min_df=1, max_df=1.0).fit(DOCS)
    x = counts.transform(DOCS)
    idf = inverse_document_frequency(np.bincount(x.indices, minlength=x.shape[1]), len(DOCS))
    batch = tfidf_matrix(x, idf)
    vocab = sorted(counts.vocabulary_, key=counts.vocabulary_.get)
    qv = QueryVectorizer(analyzer, vocab, idf)
    for i, text in enumerate(DOCS):
        v = qv.transform_one(text)
        dense = np.zeros(len(vocab), np.float32)
        dense[v.indices] = v.values
        np.testing.assert_allclose(dense, batch[i].toarray().ravel(), atol=1e-6)


def test_query_vectorizer_reports_unknown_and_stop_words(analyzer):
    qv = QueryVectorizer(analyzer, ["rocket"], np.ones(1, np.float32))
    v = qv.transform_one("the rockets and zebras, zebras")
    assert v.indices.tolist() == [0]
    assert v.values.tolist() == [1.0]
    assert v.unknown == ["zebras"]
    assert v.stop_words == ["the", "and"]

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


def test_decomposed_accents_give_the_word_of_the_composed_letter():
    analyzer = Analyzer(stemmer="none")
    assert analyzer.tokens("e\u0301ngine") == analyzer.tokens("\u00e9ngine") == ["\u00e9ngine"]
    porter = Analyzer()
    assert porter("E\u0301ngines run") == porter("\u00c9ngines run")
    # marks with no composed letter stay inside their word; a mark alone is no letter
    assert analyzer.tokens("q\u0303x nai\u0308ve") == ["q\u0303x", "na\u00efve"]
    assert analyzer.tokens("\u0301 a\u0301 be\u0301") == ["b\u00e9"]
    assert analyzer.tokens("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # vowel signs are marks


def test_text_without_combining_marks_tokenises_as_before():
    import re

    before = re.compile(r"[^\W\d_]{2,}")  # the pattern every stored index was built with
    analyzer = Analyzer(stemmer="none")
    ascii_text = (
        "Engine-failure on take_off: V2 at 2024-05-01, the PILOT's (re)check; e-mail x@y.org "
        "'quoted' \"words\" a b cd\tTab\nnew-line 3rd 42nd it's"
    )
    assert analyzer.tokens(ascii_text) == before.findall(ascii_text.lower())
    composed = "Café crème, Привет мир, Straße, naïve 東京 el niño"
    assert analyzer.tokens(composed) == before.findall(composed.lower())

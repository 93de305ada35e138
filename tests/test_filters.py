"""Filters over the stored documents, query syntax and "did you mean", through the Python API:
a filter narrows before the top k is taken, every ranking honours it, and a query with neither
ranks exactly as before."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from docret import rank
from docret.errors import FilterError, QueryError
from docret.filters import Filters, path_matcher, read_date, read_where
from docret.hits import ranking
from docret.index import Index
from docret.query_syntax import parse
from tests.conftest import FAST
from tests.fault_helpers import TINY_OPTIONS
from tests.filter_helpers import PHRASE, write_filter_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_filter_corpus(tmp_path_factory.mktemp("filters"))


@pytest.fixture(scope="module")
def index(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    with Index.build(corpus, tmp_path_factory.mktemp("db") / "f.db", **FAST) as idx:
        yield idx


@pytest.fixture(scope="module")
def binary(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("bin") / "b.db"
    options = {**TINY_OPTIONS, "binary": True, "code_size": 16, "epochs": 5}
    with Index.build(corpus, db, **options) as idx:
        yield idx


def types(hits) -> set[str]:
    return {h.metadata["type"] for h in hits}


# -- the value and its parser -----------------------------------------------------------------
def test_filters_parse_typed_values_and_refuse_bad_ones_in_one_line():
    f = Filters.parse(label="space", type=["PDF", "html"], since="2024", until="2024-02")
    assert f.labels == ("space",) and f.types == ("pdf", "html")
    assert (f.since, f.until) == (date(2024, 1, 1), date(2024, 2, 29))
    assert not Filters() and Filters.of(None) == Filters() and Filters.of(f) is f
    assert Filters.of({"where": "author=Ann"}).where == (("author", "Ann"),)
    assert read_date("2023-12-31T23:59:00+01:00") == date(2023, 12, 31)
    assert read_where(" author = Ann Smith ") == ("author", "Ann Smith")
    for bad, message in [
        ({"since": "2024-13-01"}, "since: '2024-13-01' is not a date"),
        ({"until": "yesterday"}, "until: 'yesterday' is not a date"),
        ({"where": "author"}, "where: give KEY=VALUE"),
        ({"where": "=Ann"}, "where: give KEY=VALUE"),
        ({"where": "a'b=c"}, "is not a field name"),
        ({"label": " "}, "label: give a value"),
        ({"colour": "red"}, "Unknown filter 'colour'"),
    ]:
        with pytest.raises(FilterError, match=message.replace("[", r"\[")) as e:
            Filters.of(bad)
        assert "\n" not in str(e.value)
    assert isinstance(FilterError("x"), QueryError)  # a bad query: 400 on the server


def test_params_read_back_as_the_same_filters():
    f = Filters.parse(label=["a", "b"], path="docs/*", since="2024-03", where="author=Ann")
    assert Filters.parse(**f.params()) == f
    assert f.describe() == "label a, label b, path docs/*, since 2024-03-01, where author=Ann"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("docs/*.pdf", "/data/ann/docs/a.pdf", True),
        ("docs/*.pdf", "/data/ann/docs/old/a.pdf", False),
        ("docs/**/*.pdf", "/data/ann/docs/old/a.pdf", True),
        ("docs/**/*.pdf", "/data/ann/docs/a.pdf", True),
        ("*.md", "/x/notes.md", True),
        ("*.md", "/x/notes.md.txt", False),
        ("/data/ann/*", "/data/ann/a.txt", True),
        ("/data/*", "/data/ann/a.txt", False),
        ("a?c.[tm]xt", "/x/abc.txt", True),
        ("docs/*/", "/x/docs/a", True),
        ("**/x/**", "/a/x/b/c.txt", True),
        ("/a/**/c.txt", "/a/c.txt", True),
        ("/a/**/c.txt", "/b/a/c.txt", False),
        ("[z-a]*", "/x/z.txt", False),
        ("a?c.[!tm]xt", "/x/abc.txt", False),
        ("docs", "/data/ann/docs/a.pdf", True),
        ("docs", "/data/ann/docsold/a.pdf", False),
        ("ann/docs/", "/data/ann/docs/a.pdf", True),
        ("/data/ann", "/data/ann/docs/a.pdf", True),
        ("/data/an", "/data/ann/docs/a.pdf", False),
        ("a.pdf", "/data/ann/docs/a.pdf", True),
        ("space/003.txt", "space/003.txt", True),
    ],
)
def test_path_patterns_are_globs_or_folders_at_whole_names(pattern, path, matches):
    assert path_matcher(pattern)(path) is matches


def test_a_glob_takes_no_exponential_time_on_a_name_it_does_not_match():
    start = time.perf_counter()
    for pattern in ("*a*a*a*a*a*a*a*b", "**/a*a*a*a*a*b/**/*a*a*a*c"):
        assert not path_matcher(pattern)("/" + "/".join(["a" * 60] * 8))
    assert time.perf_counter() - start < 1.0


# -- filters through Index.query --------------------------------------------------------------
def test_k_results_when_k_match_though_the_unfiltered_top_k_holds_few(index):
    unfiltered = index.query("rocket launch orbit", k=5)
    assert sum(h.metadata["type"] == "html" for h in unfiltered) < 5
    hits = index.query("rocket launch orbit", k=5, filters={"type": "html"})
    assert len(hits) == 5 and types(hits) == {"html"}
    whole = index.query("rocket launch orbit", k=100)
    # a filter narrows, it never reorders: the whole ranking's html documents, in its order
    assert [h.id for h in hits] == [h.id for h in whole if h.metadata["type"] == "html"][:5]
    assert [h.score for h in hits] == [h.score for h in whole if h.metadata["type"] == "html"][:5]
    assert hits.matched == sum(h.metadata["type"] == "html" for h in whole)


def test_each_filter_keeps_exactly_the_documents_that_match_it(index, corpus):
    everything = index.query("-qqzzx", k=200)  # a query of syntax alone: every document
    assert len(everything) == 84

    def ids(**filters) -> set[str]:
        return {h.id for h in index.query("-qqzzx", k=200, filters=filters)}

    assert ids(label="space") == {i for i in (h.id for h in everything) if i.startswith("space/")}
    assert ids(label=["cooking", "NOTES"]) == {
        h.id for h in everything if h.id.startswith("cooking/") and h.id.endswith(".md")
    }
    assert ids(type=["text", "html"]) == {h.id for h in everything if not h.id.endswith(".md")}
    assert ids(path="*.html") == {h.id for h in everything if h.id.endswith(".html")}
    assert ids(path=["sailing", str(corpus / "music")]) == {
        h.id for h in everything if h.id.startswith(("sailing/", "music/"))
    }
    assert ids(since="2024-01-01") == {h.id for h in everything if h.id.endswith(".html")}
    assert ids(until="2023") == {h.id for h in everything if h.id.endswith(".md")}
    october = {h.id for h in everything if h.metadata.get("date", "").startswith("2024-10")}
    assert october and ids(since="2024-10", until="2024-10") == october
    assert ids(where="author=bob") == ids(type="html")
    assert ids(where=["author=Ann", "type=markdown"]) == ids(type="markdown")
    assert ids(where="author=Carol") == set()
    assert ids(where=f"path={corpus / 'space' / '000.txt'}") == {"space/000.txt"}


def test_every_ranking_method_honours_a_filter(index):
    for method in index.offered():
        whole = index.query("rocket launch orbit", k=84, method=method)
        hits = index.query("rocket launch orbit", k=4, method=method, filters={"type": "html"})
        assert len(hits) == 4 and types(hits) == {"html"}, method
        expected = [h.id for h in whole if h.metadata["type"] == "html"]
        assert [h.id for h in hits] == expected[:4], method
        # what it lists is decided among the html documents alone, as if they were the index
        assert 4 <= hits.matched <= len(expected), method


def test_binary_codes_honour_a_filter_by_hamming_and_when_re_ranked(binary):
    for rerank in (None, 20):
        hits = binary.query("rocket launch", k=6, rerank=rerank, filters={"type": "markdown"})
        assert len(hits) == 6 and types(hits) == {"markdown"}, rerank
    whole = binary.query("rocket launch", k=84, method="codes")
    hits = binary.query("rocket launch", k=6, method="codes", filters={"type": "markdown"})
    assert [h.id for h in hits] == [h.id for h in whole if h.metadata["type"] == "markdown"][:6]


def test_a_filter_that_nothing_passes_returns_no_hits(index):
    hits = index.query("rocket", filters={"since": "2030-01-01"})
    assert list(hits) == [] and hits.matched == 0


def test_without_filters_or_syntax_the_ranking_is_bitwise_the_rankers(index):
    state = index.snapshot
    texts = ["rocket launch orbit", "butter garlic oven", "guitar"]
    for method in index.offered():
        direct = rank.run(state, texts, 7, method=method)
        for text, answer, hits in zip(
            texts, direct, index.query_many(texts, 7, method=method), strict=True
        ):
            expected = ranking(index.store, state, answer)
            assert [(h.id, h.score) for h in hits] == [(h.id, h.score) for h in expected]
            assert hits.matched == expected.matched, (method, text)
            alone = index.query(text, 7, method=method)
            assert index.query(text, 7, method=method, filters=Filters()) == alone


def test_allowed_rows_leave_the_scores_as_they_are(index):
    state = index.snapshot
    allowed = np.zeros(len(state.ids), dtype=bool)
    allowed[::3] = True
    for method in index.offered():
        plain = rank.run(state, ["rocket orbit"], 5, method=method)[0]
        narrowed = rank.run(state, ["rocket orbit"], 5, method=method, allowed=allowed)[0]
        assert np.array_equal(plain.scores, narrowed.scores), method
        assert allowed[narrowed.order].all() and len(narrowed.order) == 5, method
        assert not narrowed.listed[~allowed].any(), method


# -- query syntax -----------------------------------------------------------------------------
def test_the_query_text_is_taken_apart():
    q = parse('rocket "launch  window" -satellite -"booster payload" type:pdf label:"big data" x')
    assert q.text == "rocket launch  window x"
    assert q.phrases == ("launch  window",) and q.unwanted == ("booster payload",)
    assert q.excluded == ("satellite",)
    assert q.filters == Filters(types=("pdf",), labels=("big data",))
    plain = parse("well-known re:thing http://x.org -5 a - b")
    assert plain.plain and plain.text == "well-known re:thing http://x.org -5 a - b"
    assert parse('an "unclosed quote').plain
    with pytest.raises(FilterError, match="since: 'soon' is not a date"):
        _ = parse("rocket since:soon").filters


def test_a_phrase_must_appear_as_written_and_k_hits_hold_it(index):
    hits = index.query(f'"{PHRASE.upper()}"', k=5)
    assert len(hits) == 5 and hits.matched == 7
    for h in hits:
        text = " ".join(index.document(h.id).text.lower().split())
        assert PHRASE in text
    # its words in another order, or across a line, are no match
    assert list(index.query('"window launch"')) == []
    assert len(index.query('"launch window opens at dawn"', k=10)) == 7


def test_excluded_words_leave_out_every_document_that_holds_them_by_stem(index):
    hits = index.query("rocket -satellites", k=84)
    assert hits
    for h in hits:
        assert "satellite" not in index.document(h.id).text.lower()
    with_word = index.query("rocket satellite", k=84, method="bm25")
    assert any("satellite" in index.document(h.id).text.lower() for h in with_word)
    unwanted = index.query(f'rocket -"{PHRASE}"', k=84)
    assert all(PHRASE not in index.document(h.id).text.lower() for h in unwanted)


def test_field_syntax_filters_as_the_filters_argument_does(index):
    typed = index.query("rocket orbit type:html since:2024-02 label:space", k=10)
    given = index.query(
        "rocket orbit", k=10, filters={"type": "html", "since": "2024-02", "label": "space"}
    )
    assert [(h.id, h.score) for h in typed] == [(h.id, h.score) for h in given]
    assert typed and all(h.labels == ("space",) for h in typed)
    # both at once: each must hold
    assert list(index.query("rocket type:html", filters={"type": "markdown"})) == []


def test_a_query_of_syntax_alone_lists_what_passes_in_storage_order(index):
    hits = index.query("label:sailing type:text", k=3)
    assert [h.score for h in hits] == [0.0] * 3 and hits.matched == 7
    assert [h.id for h in hits] == sorted(h.id for h in hits)
    assert all(h.id.startswith("sailing/") and h.id.endswith(".txt") for h in hits)
    assert index.query("-rocket", k=84).matched == 84 - index.query("rocket", method="bm25").matched
    with pytest.raises(QueryError, match="Query is empty"):
        index.query("   ")


def test_syntax_words_are_no_unknown_words_and_not_explained(index):
    assert index.unknown_words('rocket type:pdf "orbit" -zzyzx') == []
    assert index.unknown_words("rocket qqzzx type:pdf") == ["qqzzx"]
    assert index.explain("rocket type:html", 5) == index.explain("rocket", 5)


def test_facets_count_the_matched_documents_by_type_and_folder(index, corpus):
    hits = index.query("rocket launch orbit", k=3, filters={"label": "space"})
    facets = hits.facets()
    assert sum(c for _, c in facets["type"]) == hits.matched
    assert facets["folder"] == [(str(corpus / "space"), hits.matched)]
    assert {name for name, _ in facets["type"]} <= {"text", "markdown", "html"}


# -- did you mean -----------------------------------------------------------------------------
def test_did_you_mean_replaces_unknown_words_by_the_closest_known_ones(index):
    assert index.did_you_mean("rockett launhc") == "rocket launch"
    assert index.did_you_mean("Guittar chords") == "guitar chords"
    assert index.did_you_mean('"rokcet" type:html') == '"rocket" type:html'
    assert index.did_you_mean("rocket launch") is None
    assert index.did_you_mean("qqzzxxvv") is None  # nothing within two edits
    with pytest.raises(QueryError, match=r"\(unknown: rokcet\); did you mean: rocket\?$"):
        index.query("rokcet")


def test_a_pasted_text_longer_than_a_typed_query_is_free_text_whole():
    from docret.query_syntax import MOST_TYPED_WORDS, parse

    typed = 'rocket -satellites "launch window" type:pdf'
    assert not parse(typed).plain
    pasted = " ".join(["orbit"] * MOST_TYPED_WORDS) + ' -satellites "launch window" type:pdf'
    parsed = parse(pasted)
    assert parsed.plain and parsed.text == pasted

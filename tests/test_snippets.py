"""Query-aware snippets: which window a hit shows, the query's words marked in it (by stem, at
the right offsets), the first lines when no query word is there, and what the CLI prints; then
on the shared Cranfield and NPL collections, every hit with a query word shows one, marked."""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from docret import rank, snippets
from docret.cli import cli
from docret.cli.render import highlighted
from docret.corpus import body_of
from docret.hits import ranking, snippet
from docret.index import Index
from docret.lexicon import LexicalIndex
from docret.snippets import QueryTerms, best_passage, body_start, first_lines, passage_end
from docret.text import Analyzer, QueryVectorizer, english_stop_words
from tests.fault_helpers import TINY_OPTIONS

ANALYZER = Analyzer(stemmer="porter", stop_words=english_stop_words())
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def state_of(idf: dict[str, float], analyzer: Analyzer = ANALYZER) -> SimpleNamespace:
    """What :class:`QueryTerms` reads of an index: a vocabulary of ``idf``'s stems."""
    return SimpleNamespace(vectorizer=QueryVectorizer(analyzer, list(idf), list(idf.values())))


def terms_of(query: str, idf: dict[str, float] | None = None) -> QueryTerms:
    """The terms of ``query``, each of its stems in the vocabulary (idf 1 unless given)."""
    stems = [ANALYZER.stem(w) for w in ANALYZER.tokens(query) if w not in ANALYZER.stop_words]
    terms = QueryTerms.of(state_of({s: 1.0 for s in stems} | (idf or {})), query)
    assert terms is not None
    return terms


def passage(text: str, title: str | None, query: str, idf: dict[str, float] | None = None):
    """:func:`best_passage` of ``text`` for ``query``, its words known as an index knows the
    words of the documents it was built from."""
    ANALYZER(text)
    return best_passage(text, title, terms_of(query, idf))


def marked(shown: snippets.Snippet) -> list[str]:
    return [shown.text[s:e] for s, e in shown.highlights]


def collapsed(text: str) -> str:
    return " ".join(text.split())


# -- the window and the marks ---------------------------------------------------------------
def test_a_word_is_marked_by_its_stem():
    text = "Turbines\n\nJet Engines of the 1950s. An ENGINE's intake; engineering aside."
    shown = passage(text, "Turbines", "engine")
    assert shown is not None
    assert marked(shown) == ["Engines", "ENGINE", "engineering"]  # all stem to "engin"
    assert shown.text.startswith("Jet Engines") and shown.start == text.index("Jet")


def test_a_stem_whose_last_letter_its_words_lack_is_found():
    text = "Doc\n\nHistories of the history of a historian, and an earlier history."
    shown = passage(text, "Doc", "histories")
    assert shown is not None and marked(shown) == ["Histories", "history", "history"]


def test_the_window_with_the_rarest_words_wins():
    filler = "The engine ran well on the test stand that day. " * 8
    rare = "A hypersonic engine needs a scramjet intake. "
    text = "Report\n\n" + filler + rare + filler
    query = "hypersonic engine"
    shown = passage(text, "Report", query, {"hyperson": 5.0, "engin": 1.0})
    assert shown is not None
    # the sentence with the rare word, from its start, and nothing cut before it
    assert shown.text.startswith("A hypersonic engine") and shown.start == text.index(rare)
    assert marked(shown)[:2] == ["hypersonic", "engine"]
    # both words are in no other window: however common the rare word, it is shown
    common = passage(text, "Report", query, {"hyperson": 0.1, "engin": 1.0})
    assert common is not None and "hypersonic" in marked(common)


def test_distinct_words_outweigh_one_repeated():
    moon = "Orbit orbit orbit orbit around the moon, " + "and far from the sun, " * 6
    text = "Doc\n\n" + moon + "for long. Later the rocket reached orbit."
    shown = passage(text, "Doc", "rocket orbit")
    assert shown is not None and shown.text.startswith("Later the rocket reached orbit")


def test_a_passage_inside_a_long_sentence_starts_and_ends_with_an_ellipsis():
    words = " ".join(f"word{i}" for i in range(200)).replace("1", "a").replace("2", "b")
    text = "Doc\n\n" + words + " the rocket " + words + "."
    shown = passage(text, "Doc", "rocket")
    assert shown is not None
    assert shown.text.startswith("…") and shown.text.endswith("…")
    assert len(shown.text) <= snippets.SNIPPET_CHARS + 2
    assert marked(shown) == ["rocket"]
    # the passage is where the snippet says, whitespace collapsed
    assert collapsed(text[shown.start : passage_end(text, shown.start)]) == shown.text.strip("…")


def test_every_query_word_of_the_snippet_is_marked_at_its_offsets():
    text = (
        "Title\n\nThe  engines\n(engine-room) had\tENGINES; the engineer's engine, "
        "naïve Naïve engines… ENGINE."
    )
    shown = passage(text, "Title", "engine naive naïve")
    assert shown is not None
    stems = {"engin", ANALYZER.stem("naïve")}
    expected = [
        (m.start(), m.end())
        for m in re.finditer(r"[^\W\d_]{2,}", shown.text)
        if ANALYZER.stem(m.group().lower()) in stems
    ]
    assert list(shown.highlights) == expected and len(expected) == 9


def test_offsets_stay_right_where_lower_casing_lengthens_a_letter():
    text = "Doc\n\nİstanbul İİ: the engines started."  # "İ".lower() is two characters
    shown = passage(text, "Doc", "engine")
    assert shown is not None and marked(shown) == ["engines"]


def test_combining_marks_belong_to_their_word():
    decomposed = "cafe\u0301s"  # "cafés" written with a combining accent
    text = f"Doc\n\nTwo {decomposed} and a cafe."
    shown = passage(text, "Doc", "café")
    assert shown is not None and marked(shown) == [decomposed]


def test_a_hit_without_a_query_word_shows_its_first_lines():
    text = "Title line\n\n" + "Spacecraft drift between stars. " * 20
    assert passage(text, "Title line", "rocket") is None
    shown = snippets.shown(text, "Title line", terms_of("rocket"))
    assert shown == first_lines(text, "Title line")
    assert shown.text == snippet(text, title="Title line") and shown.highlights == ()
    assert shown.text.startswith("Spacecraft") and shown.start == text.index("Spacecraft")


def test_only_the_start_of_a_long_document_is_searched():
    text = "Doc\n\n" + "Nothing here. " * (snippets.SCAN_CHARS // 14 + 10) + "A rocket."
    assert passage(text, "Doc", "rocket") is None


def test_a_word_the_index_does_not_know_is_not_stemmed_for_a_query_of_known_words(monkeypatch):
    # A query of known words never loads the stemmer, so a document's unknown word is left
    # unmarked rather than stemmed.
    analyzer = Analyzer(stop_words=["the"], known={"rocket": "rocket", "rockets": "rocket"})
    monkeypatch.setattr(analyzer, "_make_stemmer", lambda name: pytest.fail("stemmer loaded"))
    terms = QueryTerms.of(state_of({"rocket": 1.0}, analyzer), "rocket")
    assert terms is not None
    shown = best_passage("Doc\n\nThe rockets and rocketed Rocket.", "Doc", terms)
    assert shown is not None and marked(shown) == ["rockets", "Rocket"]


def test_a_query_of_stop_words_has_no_terms():
    assert QueryTerms.of(state_of({"rocket": 1.0}), "the and of") is None


@pytest.mark.parametrize(
    "text,title",
    [
        ("Title\n\nBody text.\n", "Title"),
        ("  Title\nBody\n\n", "Title"),
        ("Not the title\nBody", "Other"),
        ("Only a title", "Only a title"),
        ("From: a@b.c\nSubject: hi\n\nThe message.\n", None),
        ("\n\nplain text with no title  \n", None),
    ],
)
def test_body_start_is_where_the_body_is(text, title):
    start = body_start(text, title)
    assert text[start : len(text.rstrip())] == body_of(text, title)


def test_first_lines_is_the_snippet_of_before():
    rng = np.random.default_rng(0)
    words = ["alpha", "be", "gamma\n", "delta  ", "x" * 120, "\n\n", "é", "[bold]"]
    for _ in range(200):
        text = "Title\n" + "".join(rng.choice(words, size=int(rng.integers(0, 80))))
        body = " ".join(body_of(text, "Title")[:640].split())
        cut = body.rfind(" ", 0, 160)
        old = body if len(body) <= 160 else body[: cut if cut > 80 else 160] + "…"
        shown = first_lines(text, "Title")
        assert shown.text == old
        end = passage_end(text, shown.start)
        assert collapsed(text[shown.start : end]) == old.removesuffix("…")


# -- the CLI's cell ---------------------------------------------------------------------------
def test_the_table_cell_bolds_the_marks_and_shows_markup_literally():
    text = "A [bold]engine[/bold] and [red]x\\"
    cell = highlighted(text, [(8, 14)])
    assert cell.plain == text
    assert [(s.start, s.end, str(s.style)) for s in cell.spans] == [(8, 14, "bold")]


# -- through the index, the CLI and its JSON --------------------------------------------------
SPECIAL = {
    "special/markup.txt": "Markup\n\nThe [bold]rocket[/bold] roared, [red]launch[/red] \\",
    "special/far.txt": "Far\n\n"
    + "Nothing to see in this sentence. " * 30
    + "Then the scramjet rocket fired.",
    "special/html.txt": "Html\n\n<script>alert(1)</script> the rocket & <b>launch</b>",
}


@pytest.fixture(scope="module")
def snippet_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import TOPICS, make_text

    folder = tmp_path_factory.mktemp("snippets")
    rng = random.Random(0)
    rows = [
        {"id": f"{topic}/{i}.txt", "text": make_text(rng, topic)}
        for topic in TOPICS
        for i in range(6)
    ] + [{"id": k, "text": v} for k, v in SPECIAL.items()]
    source = folder / "docs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    db = folder / "snippets.db"
    Index.build(source, db, **TINY_OPTIONS).close()
    return db


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def test_index_hits_show_the_passage_and_keep_the_rankings_scores(snippet_db):
    with Index.open(snippet_db) as index:
        found = index.query("scramjet rocket", k=5)
        state = index.snapshot
        answer = rank.run(state, ["scramjet rocket"], 5)[0]
        plain = ranking(index.store, state, answer)  # no query: first lines
        similar = index.similar("special/far.txt", 3)
    assert [(h.id, h.score) for h in found] == [(h.id, h.score) for h in plain]
    far = next(h for h in found if h.id == "special/far.txt")
    assert far.snippet == "Then the scramjet rocket fired."
    assert [far.snippet[s:e] for s, e in far.highlights] == ["scramjet", "rocket"]
    assert far.snippet_start == SPECIAL["special/far.txt"].index("Then")
    assert all(not h.highlights for h in plain + similar)
    assert far.to_dict()["highlights"] == [[9, 17], [18, 24]]
    assert far.to_dict()["snippet_start"] == far.snippet_start


def test_cli_json_and_table_show_the_marks(snippet_db):
    query = ["-d", snippet_db, "query", "rocket bold", "-k", "40"]
    out = run(*query, "--json")
    assert out.exit_code == 0, out.output
    hits = {h["id"]: h for h in json.loads(out.stdout)}
    markup = hits["special/markup.txt"]
    assert markup["snippet"] == SPECIAL["special/markup.txt"].removeprefix("Markup\n\n")
    assert [markup["snippet"][s:e] for s, e in markup["highlights"]] == ["bold", "rocket", "bold"]
    assert markup["snippet_start"] == SPECIAL["special/markup.txt"].index("The")

    table = run(*query, env={"COLUMNS": "300"})
    assert table.exit_code == 0, table.output
    assert markup["snippet"] in table.stdout  # the document's markup, shown as written
    bold = run(*query, env={"COLUMNS": "300", "FORCE_COLOR": "1"})
    assert "[\x1b[1mbold\x1b[0m]\x1b[1mrocket\x1b[0m[/\x1b[1mbold\x1b[0m]" in bold.stdout


# -- the shared collections ---------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("name", ["cranfield", "npl"])
def test_every_hit_holding_a_query_word_shows_one_marked(name):
    folder = CORPORA / name
    if not (folder / "docs.jsonl.gz").exists():
        pytest.skip(f"{folder} not present")
    with gzip.open(folder / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f][:3000]
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        queries = [json.loads(line)["text"] for line in f][:100]
    # BM25 over the collection's own lexicon ranks: no model need be trained for snippets
    lexical = LexicalIndex.from_texts((d["text"] for d in docs), ANALYZER)
    df = lexical.document_frequency
    state = SimpleNamespace(
        vectorizer=QueryVectorizer(ANALYZER, [], np.zeros(0, np.float32)), lexical=lexical
    )
    checked = 0
    for query in queries:
        terms = QueryTerms.of(state, query)
        scored = lexical.scores(ANALYZER, query)
        if terms is None or scored is None:
            continue
        for row in np.argsort(-scored[0], kind="stable")[:10]:
            doc = docs[row]
            held = set(ANALYZER(body_of(doc["text"], doc.get("title"))))
            if not held & set(terms.weights):
                continue
            shown = snippets.shown(doc["text"], doc.get("title"), terms)
            words = [shown.text[s:e] for s, e in shown.highlights]
            assert words, (query, doc["id"], shown.text)
            assert all(ANALYZER.stem(w.lower()) in terms.weights for w in words)
            checked += 1
    assert checked > 500 and len(df) > 1000


# -- the web pages and the JSON API --------------------------------------------------------------
@pytest.fixture(scope="module")
def web(snippet_db):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from docret.serve import create_app
    from tests.serve_helpers import LOCAL

    with TestClient(create_app(snippet_db), base_url=LOCAL) as c:
        yield c


def test_api_hits_carry_the_marks(web):
    body = web.get("/api/query", params={"q": "scramjet rocket", "k": 40}).json()
    far = next(h for h in body["hits"] if h["id"] == "special/far.txt")
    assert far["highlights"] == [[9, 17], [18, 24]] and far["snippet_start"] > 0
    similar = web.get("/api/similar/special/far.txt", params={"k": 3}).json()
    assert all(h["highlights"] == [] for h in similar["hits"])


def test_the_hit_list_marks_the_words_and_escapes_the_rest(web):
    page = web.get("/", params={"q": "rocket launch", "k": 40}).text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; the <mark>rocket</mark> &amp; "
        "&lt;b&gt;<mark>launch</mark>&lt;/b&gt;"
    ) in page
    assert "<script>alert(1)" not in page
    assert "The [bold]<mark>rocket</mark>[/bold] roared" in page
    assert 'href="/documents/special%2Ffar.txt?q=rocket%20launch#passage"' in page


def test_the_document_page_marks_the_words_and_the_passage(web):
    page = web.get("/documents/special/far.txt", params={"q": "scramjet rocket"}).text
    assert (
        '<span id="passage" class="passage">Then the <mark>scramjet</mark> '
        "<mark>rocket</mark> fired.</span>"
    ) in page
    html = web.get("/documents/special/html.txt", params={"q": "rocket"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; the <mark>rocket</mark> &amp;" in html
    assert "<script>alert(1)" not in html
    plain = web.get("/documents/special/far.txt").text
    assert "<mark>" not in plain and 'id="passage"' not in plain


def test_marks_and_the_passage_nest_whatever_their_bounds():
    from docret.serve.render import marked as html

    text = "a <b> rocket & engines"
    assert html(text, [(6, 12), (15, 22)], (4, 16)) == (
        'a &lt;b<span id="passage" class="passage">&gt; <mark>rocket</mark> &amp; '
        "<mark>e</mark></span><mark>ngines</mark>"
    )
    assert html(text, []) == "a &lt;b&gt; rocket &amp; engines"

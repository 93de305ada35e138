"""Filters, query syntax and "did you mean" through the CLI, the JSON API and the search
page: the same filters everywhere, a bad value refused in one line (exit 2, 400 JSON, the
page's error), labels and facets that add a filter."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner

from docret.cli import cli
from docret.index import Index
from tests.conftest import FAST
from tests.filter_helpers import PHRASE, write_filter_corpus

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from docret.serve import create_app  # noqa: E402
from tests.serve_helpers import LOCAL  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_filter_corpus(tmp_path_factory.mktemp("filters"))


@pytest.fixture(scope="module")
def db(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("db") / "f.db"
    Index.build(corpus, db, **FAST).close()
    return db


@pytest.fixture(scope="module")
def client(db: Path):
    with TestClient(create_app(db), base_url=LOCAL) as c:
        yield c


def run(db: Path, *args: str):
    return CliRunner().invoke(cli, ["-d", str(db), *args], catch_exceptions=False)


def query_json(db: Path, *args: str) -> list[dict]:
    result = run(db, "query", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- the CLI ----------------------------------------------------------------------------------
def test_cli_filters_give_k_results_of_the_kind_asked(db):
    hits = query_json(db, "rocket launch orbit", "-k", "5", "--type", "html")
    assert len(hits) == 5 and {h["metadata"]["type"] for h in hits} == {"html"}
    hits = query_json(db, "rocket", "-k", "50", "--label", "cooking", "--label", "notes")
    assert hits and all(h["labels"] == ["cooking", "notes"] for h in hits)
    hits = query_json(db, "rocket", "-k", "50", "--path", "sailing/*.txt", "--since", "2020")
    assert hits == []  # plain text has no date
    hits = query_json(db, "rocket", "-k", "50", "--where", "author=ann", "--until", "2023-06")
    assert hits and all(h["metadata"]["date"] <= "2023-06-30" for h in hits)
    assert all(h["metadata"]["author"] == "Ann" for h in hits)


def test_cli_query_syntax_and_the_same_filters_by_option(db):
    typed = query_json(db, "rocket orbit type:markdown label:space", "-k", "4")
    given = query_json(db, "rocket orbit", "-k", "4", "--type", "markdown", "--label", "space")
    assert typed == given and len(typed) == 4
    phrase = query_json(db, f'"{PHRASE}" -booster', "-k", "10")
    assert phrase and all("booster" not in h["snippet"] for h in phrase)


def test_cli_compare_takes_the_filters_too(db):
    result = run(db, "query", "rocket", "--compare", "--json", "-k", "3", "--type", "html")
    data = json.loads(result.stdout)
    for name in data["methods"]:
        assert len(data[name]) == 3 and {h["metadata"]["type"] for h in data[name]} == {"html"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2024-13-01"], "Invalid value for '--since': '2024-13-01' is not a date"),
        (["--until", "soon"], "Invalid value for '--until': 'soon' is not a date"),
        (["--where", "author"], "Invalid value for '--where': give KEY=VALUE"),
        (["--label", ""], "Invalid value for '--label': give a value"),
    ],
)
def test_cli_bad_filter_values_are_usage_errors(db, args, message):
    result = run(db, "query", "rocket", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message in result.output


def test_cli_a_bad_date_in_the_query_text_is_one_line(db):
    result = run(db, "query", "rocket since:soon")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: since: 'soon' is not a date (give YYYY-MM-DD, YYYY-MM or YYYY)"
    )


def test_cli_says_did_you_mean_under_the_table(db):
    result = run(db, "query", "rockett orbit")
    assert result.exit_code == 0
    assert "Did you mean: rocket orbit" in result.stderr
    assert "Did you mean" not in run(db, "query", "rocket orbit").stderr


# -- the JSON API -----------------------------------------------------------------------------
def test_api_filters_as_query_parameters_and_in_the_body(client):
    params = {"q": "rocket launch orbit", "k": 5, "type": ["html", "text"], "label": "space"}
    got = client.get("/api/query", params=params).json()
    assert len(got["hits"]) == 5
    assert {h["metadata"]["type"] for h in got["hits"]} <= {"html", "text"}
    assert all(h["labels"] == ["space"] for h in got["hits"])
    body = {"q": "rocket launch orbit", "k": 5, "type": ["html", "text"], "label": ["space"]}
    posted = client.post("/api/query", json=body).json()
    assert posted["hits"] == got["hits"] and posted["matched"] == got["matched"]
    dated = client.get("/api/query", params={"q": "rocket", "k": 50, "since": "2024-11"})
    assert {h["metadata"]["date"][:7] for h in dated.json()["hits"]} <= {"2024-11", "2024-12"}


def test_api_bad_filters_are_400_with_one_line(client):
    for params, message in [
        ({"since": "junk"}, "since: 'junk' is not a date (give YYYY-MM-DD, YYYY-MM or YYYY)"),
        ({"where": "author"}, "where: give KEY=VALUE, e.g. author=Ann (got 'author')"),
    ]:
        r = client.get("/api/query", params={"q": "rocket", **params})
        assert r.status_code == 400 and r.json() == {"error": message}
    r = client.post("/api/query", json={"q": "rocket", "until": "2024-02-30"})
    assert r.status_code == 400 and "until: '2024-02-30' is not a date" in r.json()["error"]
    r = client.get("/api/compare", params={"q": "rocket", "since": "x"})
    assert r.status_code == 400


def test_api_facets_did_you_mean_and_compare_with_filters(client, corpus):
    got = client.get("/api/query", params={"q": "rockett orbit", "facets": "true"}).json()
    assert got["did_you_mean"] == "rocket orbit"
    assert sum(f["count"] for f in got["facets"]["type"]) == got["matched"]
    assert {f["value"] for f in got["facets"]["folder"]} >= {str(corpus / "space")}
    alone = client.get("/api/query", params={"q": "rockett"})
    assert alone.status_code == 400
    assert alone.json()["error"].endswith("(unknown: rockett); did you mean: rocket?")
    assert "facets" not in client.get("/api/query", params={"q": "rocket"}).json()
    compared = client.get("/api/compare", params={"q": "rocket", "k": 3, "type": "markdown"})
    data = compared.json()
    assert all(h["metadata"]["type"] == "markdown" for m in data["methods"] for h in data[m])


def test_the_openapi_description_names_the_filters(client):
    spec = client.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/query"]["get"]["parameters"]}
    assert {"label", "type", "path", "since", "until", "where", "facets"} <= names
    body = spec["components"]["schemas"]["QueryIn"]["properties"]
    assert {"label", "type", "path", "since", "until", "where"} <= set(body)


# -- the page ---------------------------------------------------------------------------------
def links(html: str, css_class: str) -> list[dict[str, list[str]]]:
    """The query parameters of each link of ``css_class`` in ``html``."""
    found = re.findall(rf'<a class="{css_class}" href="/\?([^"]+)"', html)
    return [parse_qs(unescape(h)) for h in found]


def test_label_chips_add_a_label_filter_and_active_filters_drop_one(client):
    page = client.get("/", params={"q": "rocket orbit", "type": "html"}).text
    chips = links(page, "label")
    assert chips and all(c["type"] == ["html"] and c["q"] == ["rocket orbit"] for c in chips)
    space = next(c for c in chips if c["label"] == ["space"])
    filtered = client.get("/", params=space).text
    assert "label: <bdi>space</bdi>" in filtered and "type: <bdi>html</bdi>" in filtered
    ids = re.findall(r'<bdi class="id">([^<]+)</bdi>', filtered)
    assert ids and all(i.startswith("space/") and i.endswith(".html") for i in ids)
    removals = links(filtered, "chip")
    assert {tuple(sorted(r)) for r in removals} == {("k", "label", "q"), ("k", "q", "type")}


def test_the_page_shows_facets_and_a_filter_form_and_keeps_filters_for_more(client):
    page = client.get("/", params={"q": "people week", "k": 3, "label": "space"}).text
    assert "<summary>Filters</summary>" in page and 'name="since" type="date"' in page
    facet = re.search(r'<a href="([^"]+type=markdown[^"]*)"', page)
    assert facet, "a type facet that adds the type"
    more = re.search(r'class="more" href="([^"]+)"', page)
    assert more and "label=space" in unescape(more[1])
    assert '<input type="hidden" name="label" value="space">' in page


def test_the_page_shows_a_bad_filter_and_did_you_mean(client):
    bad = client.get("/", params={"q": "rocket", "until": "not-a-day"})
    assert bad.status_code == 400
    assert "until: &#39;not-a-day&#39; is not a date" in bad.text
    empty = client.get("/", params={"q": "rocket", "since": "", "label": ""})
    assert empty.status_code == 200 and 'class="chip"' not in empty.text
    suggested = client.get("/", params={"q": "rockett orbit", "type": "html"}).text
    link = re.search(r'id="did-you-mean">Did you mean: <a href="([^"]+)"', suggested)
    assert link and "q=rocket+orbit&" in unescape(link[1]) and "type=html" in unescape(link[1])


def test_a_page_of_filters_alone_lists_their_documents(client):
    page = client.get("/", params={"label": "music", "type": "text"}).text
    ids = re.findall(r'<bdi class="id">([^<]+)</bdi>', page)
    assert ids and all(i.startswith("music/") and i.endswith(".txt") for i in ids)

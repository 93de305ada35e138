"""docret serve's pages: error pages, the info page's ranking, a document's metadata and
original file, colour contrast and bidirectional text."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from docret.index import Index  # noqa: E402
from docret.serve import create_app  # noqa: E402
from docret.serve.limits import MAX_QUERY_STRING_BYTES  # noqa: E402
from tests.conftest import write_corpus  # noqa: E402
from tests.serve_helpers import LOCAL, SERVE_FAST, copy_db, write_jsonl  # noqa: E402

STATIC = Path(__file__).resolve().parents[1] / "docret" / "serve" / "static"
RLO = "\u202e"
PAGE_HTML = "<html><body><h1>Page</h1><script>alert(1)</script> orbit rocket launch</body></html>"


@pytest.fixture(scope="module")
def folder_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of a folder of text files, one HTML file and one title with U+202E."""
    root = tmp_path_factory.mktemp("page")
    corpus = write_corpus(root / "corpus", per_topic=8)
    (corpus / "space" / "page.html").write_text(PAGE_HTML, encoding="utf-8")
    (corpus / "space" / "bidi.txt").write_text(
        f"Launch {RLO}gnirts desrever\n\nrocket orbit launch satellite astronaut planet\n",
        encoding="utf-8",
    )
    db = root / "folder.db"
    Index.build(corpus, db, **SERVE_FAST).close()
    return db


@pytest.fixture
def folder_client(folder_db: Path, tmp_path: Path):
    copy = copy_db(folder_db, tmp_path)
    with TestClient(create_app(copy), base_url=LOCAL) as c:
        yield c, copy


def set_path(db: Path, doc_id: str, path: str) -> None:
    """Change a stored document's path by hand, as a crafted database would."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("update documents set path = ? where id = ?", [path, doc_id]).rowcount


# -- error pages -------------------------------------------------------------------------------
def test_an_error_page_keeps_the_query_in_the_box(folder_client):
    c, _ = folder_client
    r = c.get("/documents/no-such-id", params={"q": "rocket <orbit>"})
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert 'value="rocket &lt;orbit&gt;"' in r.text


def test_a_503_page_says_when_it_retries_and_reloads(folder_client, tmp_path):
    c, copy = folder_client
    copy.rename(tmp_path / "away.db")
    r = c.get("/", params={"q": "rocket launch"})
    assert r.status_code == 503
    seconds = int(r.headers["retry-after"])
    assert f'<meta http-equiv="refresh" content="{seconds}">' in r.text
    assert f"Trying again in {seconds} s" in r.text
    assert 'value="rocket launch"' in r.text
    api = c.get("/api/query", params={"q": "rocket"})  # the API's 503 stays JSON
    assert api.status_code == 503 and api.headers["retry-after"] and "error" in api.json()


def test_a_413_page_is_html(folder_client):
    c, _ = folder_client
    r = c.get("/", params={"q": "x" * (MAX_QUERY_STRING_BYTES + 10)})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert '<p class="error" role="alert">The query string is too large' in r.text
    api = c.get("/api/query", params={"q": "x" * (MAX_QUERY_STRING_BYTES + 10)})
    assert api.status_code == 413 and "too large" in api.json()["error"]


# -- the info page ------------------------------------------------------------------------------
def test_info_page_shows_the_rankings_weights_and_how_they_were_chosen(folder_client):
    c, copy = folder_client
    with Index.open(copy) as index:
        ranking = index.info()["ranking"]
    page = c.get("/info").text
    weights = re.search(r'<td id="weights">(.*?)</td>', page).group(1)
    assert f"k1 {ranking['bm25']['k1']}, b {ranking['bm25']['b']}" in weights
    assert f"learned codes {ranking['codes']}" in weights
    assert f"LSA {ranking['lsa']}" in weights
    chosen = re.search(r'<td id="chosen-by">(.*?)</td>', page).group(1)
    assert f"on {ranking['queries']:,} pseudo-queries" in chosen
    expected = {"labels": "documents&#39; labels", "neighbours": "nearest neighbours"}
    assert expected.get(ranking["chosen_by"], "(known items)") in chosen


# -- a document's metadata and its original file ----------------------------------------------
def test_document_page_shows_metadata_and_opens_the_original_file(folder_client):
    c, copy = folder_client
    with Index.open(copy) as index:
        doc = index.document("space/page.html")
    page = c.get("/documents/space%2Fpage.html").text
    assert '<dl class="doc-meta">' in page
    assert doc.path in page and "<dt>type</dt>" in page
    assert 'href="/file/space%2Fpage.html"' in page
    r = c.get("/file/space%2Fpage.html")
    assert r.status_code == 200 and r.text == PAGE_HTML
    # an HTML file is shown in a sandbox: no script of it runs in the server's origin
    assert "sandbox" in r.headers["content-security-policy"]
    assert "nosniff" in r.headers["x-content-type-options"]
    assert r.headers["content-disposition"] == 'inline; filename="page.html"'


def test_a_file_outside_the_indexed_folder_is_refused(folder_client, tmp_path):
    c, copy = folder_client
    secret = tmp_path / "secret.txt"
    secret.write_text("not indexed", encoding="utf-8")
    set_path(copy, "space/000.txt", str(secret))
    assert c.get("/file/space%2F000.txt").status_code == 404
    assert 'href="/file/' not in c.get("/documents/space%2F000.txt").text
    # a link inside the folder that leads out of it is resolved first
    with Index.open(copy) as index:
        inside = Path(index.document("space/001.txt").path)
    link = inside.parent / "link.txt"
    link.symlink_to(secret)
    set_path(copy, "space/001.txt", str(link))
    r = c.get("/file/space%2F001.txt")
    assert r.status_code == 404 and "not indexed" not in r.text
    # a file gone since it was indexed, and an unknown id
    set_path(copy, "space/002.txt", str(inside.parent / "gone.txt"))
    assert c.get("/file/space%2F002.txt").status_code == 404
    assert c.get("/file/no-such-id").status_code == 404


def test_records_of_a_collection_have_no_file_to_open(tmp_path):
    db = tmp_path / "records.db"
    Index.build(write_jsonl(tmp_path / "docs.jsonl"), db, **SERVE_FAST).close()
    with TestClient(create_app(db), base_url=LOCAL) as c:
        assert 'href="/file/' not in c.get("/documents/space%2F000.txt").text
        assert c.get("/file/space%2F000.txt").status_code == 404


# -- contrast and bidirectional text -------------------------------------------------------------
def luminance(colour: str) -> float:
    """WCAG's relative luminance of a ``#rrggbb`` colour."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two colours."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_have_a_contrast_of_4_5_to_1():
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    assert round(contrast("#8a929c", "#ffffff"), 2) == 3.15  # the function measures as WCAG does
    for text in ("ink", "muted", "faint", "accent", "warn"):
        for background in ("bg", "panel", "accent-soft", "mark"):
            ratio = contrast(colours[text], colours[background])
            assert ratio >= 4.5, f"--{text} on --{background}: {ratio:.2f}:1"


def test_a_right_to_left_override_in_a_title_is_isolated(folder_client):
    c, _ = folder_client
    results = c.get("/", params={"q": "launch gnirts desrever rocket", "k": 50}).text
    title = f"Launch {RLO}gnirts desrever"
    assert f"<bdi>{title}</bdi>" in results
    assert '<bdi class="id">space/bidi.txt</bdi>' in results
    assert f"<h1><bdi>{title}</bdi></h1>" in c.get("/documents/space%2Fbidi.txt").text

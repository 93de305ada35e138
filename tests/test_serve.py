"""docret serve: every JSON endpoint and error status in-process, pages, escaping, limits,
writes, and picking up a database changed by another process."""

from __future__ import annotations

import html
import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from markupsafe import escape

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from docret.index import Index  # noqa: E402
from docret.serve import create_app, is_loopback, logic  # noqa: E402
from docret.serve.limits import MAX_BODY_BYTES, MAX_QUERY_STRING_BYTES  # noqa: E402
from tests.serve_helpers import (  # noqa: E402
    EVIL_ID,
    LOCAL,
    ROOT,
    LiveServer,
    copy_db,
    write_jsonl,
)

SPACE_QUERY = "rocket launch into orbit"


@pytest.fixture
def writable(db: Path, tmp_path: Path):
    """A client with --allow-writes on a private copy of the database."""
    copy = copy_db(db, tmp_path)
    with TestClient(create_app(copy, allow_writes=True), base_url=LOCAL) as c:
        yield c, copy


# -- JSON API -----------------------------------------------------------------------------------
def test_query_hits_have_the_cli_fields_and_find_the_topic(client, db):
    r = client.get("/api/query", params={"q": SPACE_QUERY, "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == SPACE_QUERY and body["k"] == 5
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3, 4, 5]
    fields = {"rank", "id", "score", "title", "snippet", "labels", "metadata"}
    assert set(body["hits"][0]) == fields | {"highlights", "snippet_start"}
    assert body["hits"][0]["labels"] in (["space"], ["<b>space</b>"])
    with Index.open(db) as index:
        expected = [h.to_dict() for h in index.query(SPACE_QUERY, 5)]
    assert [{k: h[k] for k in expected[0]} for h in body["hits"]] == expected


def test_query_by_post_and_methods_and_explain(client):
    get = client.get("/api/query", params={"q": SPACE_QUERY, "k": 3}).json()
    post = client.post("/api/query", json={"q": SPACE_QUERY, "k": 3}).json()
    assert post == get
    tfidf = client.get("/api/query", params={"q": SPACE_QUERY, "method": "tfidf"}).json()
    assert tfidf["method"] == "tfidf" and tfidf["hits"][0]["score"] <= 1.0 + 1e-6
    assert [h["score"] for h in tfidf["hits"]] != [h["score"] for h in get["hits"]]
    explained = client.get("/api/query", params={"q": SPACE_QUERY, "k": 3, "explain": True}).json()
    assert all(h["shared_words"] for h in explained["hits"])
    assert len(explained["query_words"]) == 10


def test_query_names_unknown_words(client):
    body = client.get("/api/query", params={"q": "rocket zzyzxq"}).json()
    assert body["unknown_words"] == ["zzyzxq"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "Query is empty"),
        ({"q": "zzyzxq qqvvx"}, "unknown: zzyzxq, qqvvx"),
        ({"q": "the and of"}, "only stop words"),
        ({"q": "rocket", "k": 0}, "Invalid value for k"),
        ({"q": "rocket", "k": "ten"}, "Invalid value for k"),
        ({"q": "rocket", "k": 100000}, "Invalid value for k"),
        ({}, "Invalid value for q"),
        ({"q": "rocket", "method": "nope"}, "Unknown ranking method 'nope'"),
    ],
)
def test_bad_queries_are_400_with_one_line(client, params, message):
    r = client.get("/api/query", params=params)
    assert r.status_code == 400
    assert message in r.json()["error"] and "\n" not in r.json()["error"]


def test_compare_marks_documents_both_found(client):
    body = client.get("/api/compare", params={"q": SPACE_QUERY, "k": 8}).json()
    assert body["methods"] == ["default", "bm25"]
    first, second = ({h["id"] for h in body[name]} for name in body["methods"])
    assert set(body["both"]) == first & second and body["both"]
    assert all(h["in_both"] == (h["id"] in first & second) for h in body["default"] + body["bm25"])
    assert [h["rank"] for h in body["default"]] == list(range(1, 9))
    codes = client.get("/api/compare", params={"q": SPACE_QUERY, "method": "codes"}).json()
    assert codes["methods"] == ["codes", "bm25"]
    assert client.get("/api/compare", params={"q": "rocket", "method": "x"}).status_code == 400


def test_similar_document_words_and_explain(client):
    doc_id = "space/000.txt"
    similar = client.get(f"/api/similar/{doc_id}", params={"k": 4}).json()
    assert similar["id"] == doc_id and len(similar["hits"]) == 4
    assert doc_id not in [h["id"] for h in similar["hits"]]
    doc = client.get(f"/api/documents/{doc_id}").json()
    assert doc["id"] == doc_id and doc["labels"] == ["space"] and doc["text"].startswith("Space")
    words = client.get(f"/api/words/{doc_id}", params={"k": 7}).json()
    assert words["id"] == doc_id and len(words["words"]) == 7
    assert set(words["words"][0]) == {"word", "weight"}
    explain = client.get("/api/explain", params={"q": SPACE_QUERY, "k": 5}).json()
    assert len(explain["words"]) == 5 and "id" not in explain
    shared = client.get("/api/explain", params={"q": SPACE_QUERY, "id": doc_id, "k": 3}).json()
    assert shared["id"] == doc_id and len(shared["words"]) == 3


@pytest.mark.parametrize(
    "url",
    [
        "/api/similar/no/such.txt",
        "/api/documents/no/such.txt",
        "/api/words/no/such.txt",
        "/api/explain?q=rocket&id=no/such.txt",
        "/documents/no/such.txt",
    ],
)
def test_unknown_ids_are_404(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert "No document with id 'no/such.txt'" in html.unescape(r.text)


def test_map_projects_the_stored_codes(client, db):
    body = client.get("/api/map").json()
    with Index.open(db) as index:
        from docret.mapping import pca_2d

        expected = pca_2d(index.snapshot.codes)
        ids = index.ids
    assert body["count"] == body["shown"] == len(ids) and body["ids"] == ids
    assert np.allclose(np.c_[body["x"], body["y"]], expected, atol=1e-4)
    legend = {item["label"]: item["count"] for item in body["legend"]}
    assert legend["space"] == 12 and sum(legend.values()) == len(ids)
    space = legend_index = [i["label"] for i in body["legend"]].index("space")
    assert body["label"][ids.index("space/000.txt")] == space == legend_index
    assert body["density"] is None


def test_map_of_a_large_index_is_a_sample_with_density(db, monkeypatch):
    monkeypatch.setattr(logic, "MAP_MAX_POINTS", 20)
    query = "rocket launch orbit harbor sail guitar melody"  # three topics: many matches
    with TestClient(create_app(db), base_url=LOCAL) as c:
        body = c.get("/api/map").json()
        placed = c.get("/api/map", params={"q": query, "k": 30}).json()["hits"]
    assert body["shown"] == 20 and body["count"] == 49 and len(body["x"]) == 20
    assert sum(body["density"]["counts"]) == 49
    assert len(placed) == 30 and len({h["id"] for h in placed} - set(body["ids"])) >= 10
    assert [h["rank"] for h in placed] == list(range(1, 31))


def test_map_places_a_querys_hits(client):
    body = client.get("/api/map", params={"q": SPACE_QUERY, "k": 5}).json()
    hits = client.get("/api/query", params={"q": SPACE_QUERY, "k": 5}).json()["hits"]
    assert [h["id"] for h in body["hits"]] == [h["id"] for h in hits]
    for h in body["hits"]:
        i = body["ids"].index(h["id"])
        assert (h["x"], h["y"], h["label"]) == (body["x"][i], body["y"][i], body["label"][i])
    assert client.get("/api/map").json()["hits"] is None
    assert client.get("/api/map", params={"q": "zzyzxq"}).status_code == 400


def test_info_has_the_training_curve(client):
    info = client.get("/api/info").json()
    assert info["documents"] == 49 and info["model"]["code_size"] == 8
    assert len(info["history"]) == info["model"]["epochs_trained"] > 1
    assert info["methods"][0] in ("codes", "default")


def test_openapi_lists_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in ("/api/query", "/api/compare", "/api/map", "/api/info", "/api/explain"):
        assert path in paths
    assert {"/api/similar/{doc_id}", "/api/documents/{doc_id}", "/api/words/{doc_id}"} <= paths
    assert "post" not in spec["paths"]["/api/documents/{doc_id}"]  # read-only by default


# -- pages ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/",
        f"/?q={SPACE_QUERY}",
        f"/?q={SPACE_QUERY}&explain=true&method=tfidf",
        f"/compare?q={SPACE_QUERY}",
        "/documents/space/000.txt",
        "/map",
        "/info",
    ],
)
def test_pages_render(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<title>" in r.text and "/static/style.css" in r.text


def test_search_page_shows_hits_and_more(client):
    page = client.get("/", params={"q": SPACE_QUERY, "k": 10}).text
    assert page.count('<li class="hit') == 10 and "More results" in page
    assert "k=20" in page
    short = client.get("/", params={"q": "zzyzxq"})
    assert short.status_code == 400 and "unknown: zzyzxq" in short.text


def test_hostile_text_and_id_are_escaped_everywhere(client):
    pages = [
        client.get("/", params={"q": "rocket orbit satellite launch", "k": 49}).text,
        client.get("/compare", params={"q": "rocket orbit satellite launch", "k": 49}).text,
        client.get("/documents/" + quote(EVIL_ID, safe="")).text,
    ]
    for page in pages:
        assert str(escape(EVIL_ID)) in page  # the id is shown, escaped
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>space" not in page
        assert page.count("<script") == page.count('<script src="/static/')
    assert quote(EVIL_ID, safe="") in pages[0]  # links carry the id percent-encoded
    doc = client.get("/api/documents/" + quote(EVIL_ID, safe="")).json()
    assert doc["id"] == EVIL_ID and doc["text"].startswith("<script>")  # JSON keeps it exact


def test_security_headers_and_no_outside_assets(client):
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    package = ROOT / "docret" / "serve"
    for f in [*package.glob("templates/*.html"), *package.glob("static/*")]:
        text = f.read_text(encoding="utf-8")
        assert "//cdn" not in text and 'src="http' not in text and 'href="http' not in text, f
    assert client.get("/static/map.js").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


# -- limits ---------------------------------------------------------------------------------
def test_oversized_requests_are_413(client):
    r = client.get("/api/query", params={"q": "a" * (MAX_QUERY_STRING_BYTES + 1)})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    body = json.dumps({"q": "rocket " * (10 * 1024 * 1024 // 7)})
    start = time.perf_counter()
    r = client.post("/api/query", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and time.perf_counter() - start < 2.0


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        piece = b"x" * 65536
        for _ in range(MAX_BODY_BYTES // len(piece) + 2):
            yield piece

    r = client.post("/api/query", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


# -- writes ---------------------------------------------------------------------------------
def test_no_write_endpoint_without_allow_writes(client):
    before = client.get("/api/info").json()["documents"]
    r = client.post("/api/documents", json={"documents": [{"id": "x", "text": "rocket"}]})
    assert r.status_code == 405 and "--allow-writes" in r.json()["error"]
    r = client.delete("/api/documents/space/000.txt")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert client.get("/api/info").json()["documents"] == before


def test_add_and_remove_with_allow_writes(writable):
    c, db = writable
    doc = {
        "id": "new/<1>.txt",
        "text": "Fresh rocket\n\nrocket orbit launch comet",
        "labels": ["space"],
    }
    r = c.post("/api/documents", json={"documents": [doc]})
    assert r.status_code == 200 and r.json()["added"] == ["new/<1>.txt"]
    assert c.get("/api/documents/" + quote(doc["id"], safe="")).json()["text"] == doc["text"]
    assert c.get("/api/map").json()["count"] == 50  # the cached map follows the write
    with Index.open(db) as index:  # written to the file, by Index.add
        assert index.document("new/<1>.txt").labels == ["space"]
    assert c.delete("/api/documents/" + quote(doc["id"], safe="")).json() == {"removed": 1}
    assert c.get("/api/documents/" + quote(doc["id"], safe="")).status_code == 404
    assert c.delete("/api/documents/no/such.txt").status_code == 404
    assert c.post("/api/documents", json={"documents": []}).status_code == 400
    assert c.post("/api/documents", json={"documents": [{"id": "a"}]}).status_code == 400


# -- another process changes the database --------------------------------------------------
def test_changes_by_another_process_are_picked_up(db, tmp_path):
    copy = copy_db(db, tmp_path)
    with TestClient(create_app(copy), base_url=LOCAL) as c:
        assert c.get("/api/info").json()["documents"] == 49
        assert c.get("/api/map").json()["count"] == 49
        extra = tmp_path / "more.jsonl"
        extra.write_text(json.dumps({"id": "late.txt", "text": "Late\n\nrocket orbit"}) + "\n")
        with Index.open(copy) as other:  # another connection, as `docret add` would be
            other.add(extra)
        assert c.get("/api/info").json()["documents"] == 50
        assert c.get("/api/map").json()["count"] == 50
        assert c.get("/api/documents/late.txt").status_code == 200
        moved = copy.rename(tmp_path / "away.db")
        r = c.get("/api/query", params={"q": "rocket"})
        assert r.status_code == 503 and "Database not found" in r.json()["error"]
        assert r.headers["retry-after"]
        assert c.get("/info").status_code == 503
        moved.rename(copy)
        assert c.get("/api/query", params={"q": "rocket"}).status_code == 200


def test_a_rebuilt_database_is_reopened(db, tmp_path):
    copy = copy_db(db, tmp_path)
    with TestClient(create_app(copy), base_url=LOCAL) as c:
        assert c.get("/api/info").json()["model"]["code_size"] == 8
        rebuilt = tmp_path / "rebuilt"
        rebuilt.mkdir()
        corpus = write_jsonl(rebuilt / "docs.jsonl", per_topic=5, seed=1)
        Index.build(corpus, rebuilt / "new.db", hidden=(16,), code_size=4, epochs=2).close()
        (rebuilt / "new.db").replace(copy)  # a new file at the same path
        info = c.get("/api/info").json()
        assert info["model"]["code_size"] == 4 and info["documents"] == 21


# -- the command ------------------------------------------------------------------------------
def test_live_server_answers_concurrently_and_refuses_a_10mb_url(db):
    from concurrent.futures import ThreadPoolExecutor

    server = LiveServer(db)
    try:

        def ask(i: int) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            path = [
                "/api/query?q=rocket+orbit",
                "/api/similar/space/001.txt",
                "/api/explain?q=jazz",
            ]
            conn.request("GET", path[i % 3])
            status = conn.getresponse().status
            conn.close()
            return status

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(ask, range(48))) == {200}
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.putrequest("GET", "/api/query?q=" + "a" * (10 * 1024 * 1024))
            conn.endheaders()
            status = conn.getresponse().status
        except (ConnectionError, http.client.HTTPException):
            status = None  # the server may close the connection while the URL is still sent
        # uvicorn stops reading a request line past MAX_HEADER_BYTES and drops the connection
        assert status in (400, 413, 431, None) and time.perf_counter() - start < 5
        assert ask(0) == 200  # and it still serves
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", "/api/query?q=" + "a" * 40_000)  # under uvicorn's limit: ours
        assert conn.getresponse().status == 413
    finally:
        err = server.stop()
    assert f"http://127.0.0.1:{server.port}/" in err


def test_serve_command_errors_are_one_line(tmp_path):
    missing = subprocess.run(
        [sys.executable, "-m", "docret", "-d", str(tmp_path / "no.db"), "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"Error: Database not found: {tmp_path / 'no.db'} (build one with 'docret index PATH')"
    ]


def test_serve_without_the_extra_says_what_to_install(tmp_path):
    block = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('fastapi', 'uvicorn'):\n"
        "            raise ImportError(name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from docret.cli import cli\n"
        "cli(prog_name='docret')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", block, "-d", str(tmp_path / "x.db"), "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "pip install 'docret[serve]'" in r.stderr


def test_only_loopback_is_quiet():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_serving_queries_imports_neither_torch_nor_sklearn(db):
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from docret.serve import create_app\n"
        f"with TestClient(create_app({str(db)!r}), base_url={LOCAL!r}) as c:\n"
        "    assert c.get('/api/query', params={'q': 'rocket'}).status_code == 200\n"
        "    assert c.get('/api/map').status_code == 200\n"
        "    assert c.get('/').status_code == 200\n"
        "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_a_binary_index_is_served(tmp_path):
    corpus = write_jsonl(tmp_path / "docs.jsonl", per_topic=6)
    db = tmp_path / "binary.db"
    Index.build(corpus, db, hidden=(32,), code_size=16, binary=True, epochs=3).close()
    with TestClient(create_app(db), base_url=LOCAL) as c:
        plain = c.get("/api/query", params={"q": SPACE_QUERY, "k": 5}).json()
        assert plain["method"] == "default" and "hybrid" not in plain["methods"]
        assert len(plain["hits"]) == 5
        codes = c.get("/api/query", params={"q": SPACE_QUERY, "k": 5, "method": "codes"})
        assert codes.status_code == 200 and len(codes.json()["hits"]) == 5
        assert c.get("/api/query", params={"q": "rocket", "method": "hybrid"}).status_code == 400
        assert c.get("/api/map").json()["count"] == 25
        assert c.get("/", params={"q": SPACE_QUERY, "method": "codes"}).status_code == 200

"""docret serve against requests a browser page or another process can make: foreign Host
names (DNS rebinding), cross-site and non-JSON writes, the token, a database replaced in
place, the API's own additions given again, oversized or malformed queries, one slow request
among others, and what the OpenAPI description promises."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from docret.index import Index  # noqa: E402
from docret.serve import create_app  # noqa: E402
from tests.serve_helpers import (  # noqa: E402
    LOCAL,
    ROOT,
    copy_db,
    write_jsonl,
)

QUERY = "rocket launch into orbit"
DOC = "space/001.txt"


@pytest.fixture
def writable(db: Path, tmp_path: Path):
    copy = copy_db(db, tmp_path)
    with TestClient(create_app(copy, allow_writes=True), base_url=LOCAL) as c:
        yield c


def post_json(c: TestClient, url: str, body: object, **headers: str):
    """A POST whose body and headers are exactly these (no Content-Type added)."""
    return c.post(url, content=json.dumps(body).encode(), headers=headers)


# -- Host (DNS rebinding) ---------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/info", f"/api/documents/{DOC}", "/", "/static"])
def test_a_foreign_host_is_refused(client, url):
    r = client.get(url, headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 400 and "evil.example" in r.json()["error"]
    assert "location" not in r.headers
    assert "rocket" not in r.text and "/" + "tmp" not in r.text


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"]
)
def test_loopback_hosts_are_answered(client, host):
    assert client.get("/api/info", headers={"Host": host}).status_code == 200


def test_allowed_hosts_are_answered_and_redirects_use_them(db):
    app = create_app(db, allowed_hosts=["search.lan"])
    with TestClient(app, base_url="http://search.lan:8000") as c:
        assert c.get("/api/info").status_code == 200
        r = c.get("/static", follow_redirects=False)
        assert r.status_code in (307, 308) and r.headers["location"].startswith(
            ("/static/", "http://search.lan:8000/static/")
        )
        assert c.get("/api/info", headers={"Host": "other.lan"}).status_code == 400
        assert c.get("/api/info", headers={"Host": "search.lan:99999"}).status_code == 400


def test_the_serve_command_takes_allowed_hosts():
    from click.testing import CliRunner

    from docret.cli import cli

    r = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--allowed-host" in r.output and "--token" in r.output


# -- writes from another site ----------------------------------------------------------------
NEW = {"documents": [{"id": "forged.txt", "text": "Forged\n\nrocket orbit forged"}]}


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 415),  # a Blob body, curl --data-binary with an empty Content-Type
        ({"Content-Type": "text/plain;charset=UTF-8"}, 415),  # sendBeacon, fetch with a string
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),  # a form
        ({"Content-Type": "application/json", "Origin": "http://evil.test:8000"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
    ],
)
def test_forged_writes_are_refused_and_change_nothing(writable, headers, status):
    r = post_json(writable, "/api/documents", NEW, **headers)
    assert r.status_code == status and r.json()["error"]
    assert writable.get("/api/documents/forged.txt").status_code == 404
    r = writable.delete(f"/api/documents/{DOC}", headers={"Origin": "http://evil.test:8000"})
    assert r.status_code == 403
    assert writable.get(f"/api/documents/{DOC}").status_code == 200


def test_writes_from_the_page_itself_are_accepted(writable):
    own = {"Content-Type": "application/json", "Origin": LOCAL}
    assert post_json(writable, "/api/documents", NEW, **own).json()["added"] == ["forged.txt"]
    assert (
        writable.delete("/api/documents/forged.txt", headers={"Origin": LOCAL}).status_code == 200
    )
    # a query by POST is held to the same rule
    r = writable.post("/api/query", content=json.dumps({"q": QUERY}).encode())
    assert r.status_code == 415


# -- the token --------------------------------------------------------------------------------
TOKEN = "s3cret-token-for-tests"


def test_a_token_guards_every_request_and_the_page_keeps_it_in_a_cookie(db):
    with TestClient(create_app(db, token=TOKEN), base_url=LOCAL) as c:
        assert c.get("/api/info").status_code == 401
        page = c.get("/")
        assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
        assert "/?token=TOKEN" in page.text
        wrong = c.get("/api/info", headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        bearer = c.get("/api/info", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200
        assert c.get("/static/style.css").status_code == 200  # assets need no token
        r = c.get(f"/?q=rocket&token={TOKEN}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/?q=rocket"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # the client keeps the cookie, as a browser does: the page and its API calls work
        assert c.get("/?q=rocket").status_code == 200
        assert c.get("/api/map").status_code == 200


def test_listening_beyond_loopback_needs_a_token(db):
    r = subprocess.run(
        [sys.executable, "-m", "docret", "-d", str(db), "serve", "--host", "0.0.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DOCRET_TOKEN"},
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--token" in lines[0]


def test_a_port_in_use_is_named(db):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "docret", "-d", str(db), "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"Error: Port {port} is in use; choose another with --port"
    ]


# -- a database replaced in place -----------------------------------------------------------
def test_a_database_copied_over_is_503_then_reopened(db, tmp_path):
    live = copy_db(db, tmp_path)
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    corpus = write_jsonl(other_folder / "docs.jsonl", per_topic=5, seed=1)
    other = other_folder / "other.db"
    Index.build(corpus, other, hidden=(16,), code_size=4, epochs=2).close()
    (tmp_path / "good").mkdir()
    good = copy_db(db, tmp_path / "good")
    with TestClient(create_app(live), base_url=LOCAL, raise_server_exceptions=False) as c:
        for _ in range(3):  # every reader thread opens the file
            assert c.get("/api/info").status_code == 200
        shutil.copyfile(other, live)  # `cp other.db live.db`: the same file, new content
        for _ in range(6):
            r = c.get("/api/query", params={"q": "rocket"})
            assert r.status_code in (200, 503)
            if r.status_code == 503:
                assert r.headers["retry-after"] and r.json()["error"]
        assert c.get("/api/info").json()["documents"] == 21  # the copied index, reopened
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"\0" * 8192)
        os.replace(garbage, live)  # a file that is not a database, renamed into place
        for url in ("/api/info", "/api/query?q=rocket", "/info"):
            r = c.get(url)
            assert r.status_code == 503 and r.headers["retry-after"], url
        os.replace(good, live)  # a good file renamed into place
        for _ in range(6):
            assert c.get("/api/info").json()["documents"] == 49


def test_a_file_found_damaged_while_served_is_503_not_the_requests_fault(db, tmp_path):
    live = copy_db(db, tmp_path)
    with TestClient(create_app(live), base_url=LOCAL, raise_server_exceptions=False) as c:
        assert c.get("/api/query", params={"q": QUERY}).status_code == 200
        conn = sqlite3.connect(live)
        conn.execute("update documents set title = cast(x'ff' || cast(title as blob) as text)")
        conn.commit()
        conn.close()
        r = c.get("/api/query", params={"q": QUERY})
        assert r.status_code == 503 and r.headers["retry-after"]
        assert "damaged" in r.json()["error"]


# -- the API's own additions ------------------------------------------------------------------
def test_an_id_added_by_the_api_is_updated_or_unchanged_when_given_again(writable):
    doc = {"id": "api-A", "text": "Api doc\n\nrocket orbit launch"}
    assert writable.post("/api/documents", json={"documents": [doc]}).json()["added"] == ["api-A"]
    again = writable.post("/api/documents", json={"documents": [doc]})
    assert again.status_code == 200 and again.json()["unchanged"] == 1
    changed = {**doc, "text": "Api doc\n\nrocket orbit satellite comet"}
    r = writable.post("/api/documents", json={"documents": [changed]})
    assert r.status_code == 200 and r.json()["updated"] == ["api-A"]
    stored = writable.get("/api/documents/api-A").json()
    assert stored["text"] == changed["text"] and stored["path"] is None


@pytest.mark.parametrize(
    "documents, words",
    [
        ([{"id": "blank", "text": " \n\t "}], ["blank", "no text"]),
        ([{"id": "twice", "text": "rocket"}, {"id": "twice", "text": "orbit"}], ["twice"]),
        ([{"id": "nul\x00id", "text": "rocket"}], ["NUL"]),
        ([{"id": "  ", "text": "rocket"}], ["no id"]),
    ],
)
def test_documents_that_cannot_be_stored_are_400_naming_them(writable, documents, words):
    before = writable.get("/api/info").json()["documents"]
    r = writable.post("/api/documents", json={"documents": documents})
    assert r.status_code == 400
    message = r.json()["error"]
    assert all(w in message for w in words), message
    assert (
        "jsonl" not in message and "docret-serve" not in message and os.sep + "tmp" not in message
    )
    assert writable.get("/api/info").json()["documents"] == before


def test_an_id_from_a_path_is_kept_unless_replace_is_asked(writable):
    doc = {"id": DOC, "text": "Replaced\n\nrocket orbit"}
    r = writable.post("/api/documents", json={"documents": [doc]})
    assert r.status_code == 400 and DOC in r.json()["error"]
    r = writable.post("/api/documents", json={"documents": [doc], "replace": True})
    assert r.status_code == 200 and r.json()["updated"] == [DOC]


# -- bounded requests -------------------------------------------------------------------------
def test_unknown_words_are_capped_and_cut(client):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["qzx" + letters[i // 26] + letters[i % 26] for i in range(500)] + ["y" * 5000]
    r = client.post(
        "/api/query",
        content=json.dumps({"q": "rocket " + " ".join(words)}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200
    body = r.json()
    assert len(body["unknown_words"]) == 20 and body["unknown_count"] == 501
    assert max(len(w) for w in body["unknown_words"]) <= 41
    assert len(r.content) < 20_000


def test_a_query_too_long_or_explained_too_far_is_400(client):
    r = client.post("/api/query", json={"q": "rocket " * 5000})
    assert r.status_code == 400 and "q" in r.json()["error"]
    r = client.get("/api/query", params={"q": "rocket " * 3500})  # 24.5 KB, under 32 KB
    assert r.status_code == 400 and "20000 characters" in r.json()["error"]
    r = client.get("/api/query", params={"q": QUERY, "k": 500, "explain": True})
    assert r.status_code == 400 and "explain" in r.json()["error"]
    assert (
        client.get("/api/query", params={"q": QUERY, "k": 50, "explain": True}).status_code == 200
    )


def test_a_held_read_does_not_hold_the_others(db):
    from docret.serve.state import ServedIndex

    served = ServedIndex(db)
    held, release = threading.Event(), threading.Event()

    def slow(index: Index) -> int:
        held.set()
        release.wait(30)
        return len(index.ids)

    async def both() -> int:
        first = asyncio.ensure_future(served.run(slow))
        await asyncio.to_thread(held.wait, 30)
        try:  # another read completes while the first is held
            return await asyncio.wait_for(served.run(lambda index: len(index.ids)), 20)
        finally:
            release.set()
            await first

    try:
        assert asyncio.run(both()) == 49
    finally:
        release.set()
        served.close()


# -- what the API says about itself -----------------------------------------------------------
def test_openapi_declares_400_not_422(client):
    spec = client.get("/openapi.json").json()
    statuses = {
        status
        for operations in spec["paths"].values()
        for operation in operations.values()
        for status in operation["responses"]
    }
    assert "422" not in statuses and "400" in statuses
    assert "HTTPValidationError" not in spec.get("components", {}).get("schemas", {})


def test_map_hits_follow_the_method(client):
    bm25 = client.get("/api/map", params={"q": QUERY, "k": 10, "method": "bm25"}).json()["hits"]
    ranked = client.get("/api/query", params={"q": QUERY, "k": 10, "method": "bm25"}).json()
    assert [h["id"] for h in bm25] == [h["id"] for h in ranked["hits"]]
    assert client.get("/api/map", params={"q": QUERY, "method": "nope"}).status_code == 400


@pytest.mark.parametrize("url", ["/api/info", f"/api/documents/{quote(DOC, safe='')}", "/"])
def test_head_is_answered_like_get(client, url):
    r = client.head(url)
    assert r.status_code == 200 and r.content == b""


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"q": "rocket"', "Invalid JSON body"),
        (b'{"q": "\\ud800"}', "nicode"),  # a lone surrogate: not text
        (b'{"q": "rocket", "method": "\\udfff"}', "nicode"),
    ],
)
def test_bad_bodies_are_400_with_one_line(client, body, words):
    r = client.post("/api/query", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and words in r.json()["error"]
    assert "\n" not in r.json()["error"]


def test_the_command_prints_the_page_with_its_token(db):
    from tests.serve_helpers import LiveServer

    server = LiveServer(db, token=TOKEN)
    err = server.stop()
    assert f"http://127.0.0.1:{server.port}/?token={TOKEN}" in err


def test_the_token_comes_from_the_environment_and_must_fit_a_header(tmp_path):
    from click.testing import CliRunner

    from docret.cli import cli

    db = str(tmp_path / "none.db")
    r = CliRunner().invoke(cli, ["-d", db, "serve"], env={"DOCRET_TOKEN": "short"})
    assert r.exit_code == 2 and "--token" in r.output
    r = CliRunner().invoke(cli, ["-d", db, "serve", "--token", "has space; and=more"])
    assert r.exit_code == 2


def test_the_page_counts_the_unknown_words_it_does_not_show(client):
    words = [f"qzx{a}{b}" for a in "abc" for b in "abcdefghij"]  # 30 unknown words
    page = client.get("/", params={"q": "rocket " + " ".join(words)})
    assert page.status_code == 200
    assert "and 10 more" in page.text


def test_a_query_says_how_many_documents_matched(client):
    body = client.get("/api/query", params={"q": QUERY, "k": 1}).json()
    assert len(body["hits"]) == 1 and body["matched"] > 1
    page = client.get("/", params={"q": QUERY, "k": 1})
    assert f"{body['matched']:,} matches, the first 1 shown" in page.text

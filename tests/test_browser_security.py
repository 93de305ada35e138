"""docret serve attacked from a web page in a real browser (headless Chromium, Selenium).

Chromium resolves ``evil.test`` to 127.0.0.1 (``--host-resolver-rules``), which is what DNS
rebinding achieves: a page of ``http://evil.test:PORT/`` whose name now points at this machine.
Such a page must not read the index (``/api/info``, a document) nor write to it, and a page of
another origin must not write to it with the requests a browser sends without asking first: a
``no-cors`` fetch with a ``Blob`` or ``Uint8Array`` body, and ``navigator.sendBeacon``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
webdriver = pytest.importorskip("selenium.webdriver")

from tests.serve_helpers import (  # noqa: E402
    CHROMEDRIVER,
    CHROMIUM,
    NO_CHROMIUM,
    LiveServer,
    build_index,
    chromium,
)

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=NO_CHROMIUM)
DOC = "space/001.txt"
DOC_URL = "/api/documents/space%2F001.txt"


class Attacker(BaseHTTPRequestHandler):
    """Serves one empty page: the other site the attacking script runs on."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b"<!doctype html><title>another site</title><p>nothing to see"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    db = build_index(tmp_path_factory.mktemp("attacked"))
    live = LiveServer(db, "--allow-writes")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def attacker():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    driver = chromium(webdriver, "--host-resolver-rules=MAP evil.test 127.0.0.1")
    yield driver
    driver.quit()


def attempt(browser, script: str) -> object:
    """Run ``script`` (an async function body that returns a value) in the current page."""
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"(async () => {{ {script} }})().then(done, e => done('threw: ' + e));"
    )


def documents(server: LiveServer) -> int:
    with urllib.request.urlopen(server.url + "/api/info", timeout=10) as r:
        return json.load(r)["documents"]


def stored(server: LiveServer, doc_id: str) -> bool:
    try:
        with urllib.request.urlopen(server.url + "/api/documents/" + doc_id, timeout=10):
            return True
    except urllib.error.HTTPError as e:
        assert e.code == 404
        return False


def test_a_rebound_name_reads_and_writes_nothing(server, browser):
    before = documents(server)
    browser.get(f"http://evil.test:{server.port}/")  # the attacker's name, now this machine
    read = attempt(
        browser,
        "const out = {};"
        "for (const url of ['/api/info', '" + DOC_URL + "']) {"
        "  const r = await fetch(url); out[url] = [r.status, await r.text()]; }"
        "return out;",
    )
    for url, (status, text) in read.items():
        assert status == 400, url
        assert "rocket" not in text and "documents" not in json.loads(text)
    wrote = attempt(
        browser,
        "const add = await fetch('/api/documents', {method: 'POST', headers: "
        "{'Content-Type': 'application/json'}, body: JSON.stringify({documents: "
        "[{id: 'rebound.txt', text: 'rebound rocket orbit'}]})});"
        "const remove = await fetch('" + DOC_URL + "', {method: 'DELETE'});"
        "return [add.status, remove.status];",
    )
    assert wrote == [400, 400]
    assert documents(server) == before and stored(server, DOC)
    assert not stored(server, "rebound.txt")


def test_another_site_cannot_read_nor_forge_writes(server, attacker, browser):
    before = documents(server)
    browser.get(f"http://evil.test:{attacker}/")
    target = f"http://127.0.0.1:{server.port}"
    read = attempt(
        browser,
        f"try {{ const r = await fetch('{target}/api/info'); return await r.text(); }}"
        "catch (e) { return 'blocked'; }",
    )
    assert read == "blocked"  # no CORS header: the answer is never shown to the page
    body = json.dumps({"documents": [{"id": "forged-ID.txt", "text": "forged rocket orbit"}]})
    sent = attempt(
        browser,
        f"const url = '{target}/api/documents'; const body = {json.dumps(body)};"
        "const doc = n => body.replace('ID', n);"
        "const out = [];"
        "const send = async (n, init) => { try { await fetch(url, init); out.push(n); }"
        "  catch (e) { out.push(n + ' threw'); } };"
        "await send('blob', {method: 'POST', mode: 'no-cors', body: new Blob([doc('blob')])});"
        "await send('typed', {method: 'POST', mode: 'no-cors',"
        "  body: new Blob([doc('typed')], {type: 'application/json'})});"
        "await send('bytes', {method: 'POST', mode: 'no-cors',"
        "  body: new TextEncoder().encode(doc('bytes'))});"
        "await send('text', {method: 'POST', mode: 'no-cors', body: doc('text')});"
        "out.push(navigator.sendBeacon(url, doc('beacon')) ? 'beacon' : 'beacon refused');"
        "await new Promise(r => setTimeout(r, 1500));"  # the beacon is sent in the background
        "return out;",
    )
    assert len(sent) == 5  # every attempt was made
    for name in ("blob", "typed", "bytes", "text", "beacon"):
        assert not stored(server, f"forged-{name}.txt"), name
    assert documents(server) == before


def test_the_page_itself_still_works(server, browser):
    browser.get(server.url + "/?q=rocket+orbit")
    assert browser.find_elements("css selector", "li.hit")
    status = attempt(browser, "const r = await fetch('/api/map'); return r.status;")
    assert status == 200


def test_the_page_with_a_token_keeps_it_after_one_visit(tmp_path: Path, browser):
    db = build_index(tmp_path)
    live = LiveServer(db, token="page-token-1234")
    try:
        browser.get(live.url + "/?q=rocket")
        assert "token" in browser.page_source  # 401 says how to give it
        browser.get(live.url + "/?q=rocket+orbit&token=page-token-1234")
        assert "token" not in browser.current_url  # taken out of the address
        assert browser.find_elements("css selector", "li.hit")
        status = attempt(browser, "const r = await fetch('/api/map'); return r.status;")
        assert status == 200
    finally:
        live.stop()

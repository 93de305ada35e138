"""Shared by the serve tests: a small index with a hostile document, and a live server."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import FAST, TOPICS, make_text

ROOT = Path(__file__).resolve().parents[1]
# Its id and text would run a script, or break out of an attribute, if anything went unescaped.
EVIL_ID = "evil/<script>alert('id')</script>\"quoted\".txt"
EVIL_TEXT = (
    '<script>alert("text")</script> rocket launch orbit satellite \'single\' "double" '
    "<img src=x onerror=alert(1)>\n\nrocket orbit launch satellite astronaut planet"
)
# Test clients address the server as a browser on this machine does (the server answers only
# the names it is known by: "testserver", the test client's default, is not one).
LOCAL = "http://127.0.0.1"
SERVE_FAST = {**FAST, "epochs": 25, "patience": 25}
# The browser tests drive Debian's headless Chromium through its chromedriver.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NO_CHROMIUM = (
    "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)


def chromium(webdriver, *args: str, logs: bool = False):
    """A headless Chromium driven by selenium's ``webdriver``, started with ``args`` too
    (and its console kept, with ``logs``)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    for arg in args:
        options.add_argument(arg)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


def write_jsonl(path: Path, per_topic: int = 12, seed: int = 0) -> Path:
    """A JSON-lines corpus of the four synthetic topics plus :data:`EVIL_ID`."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for topic in TOPICS:
            for i in range(per_topic):
                row = {
                    "id": f"{topic}/{i:03d}.txt",
                    "text": make_text(rng, topic),
                    "labels": [topic],
                }
                f.write(json.dumps(row) + "\n")
        f.write(json.dumps({"id": EVIL_ID, "text": EVIL_TEXT, "labels": ["<b>space</b>"]}) + "\n")
    return path


def build_index(folder: Path) -> Path:
    """Build the test index in ``folder``; return the database path."""
    from docret.index import Index

    db = folder / "serve.db"
    Index.build(write_jsonl(folder / "docs.jsonl"), db, **SERVE_FAST).close()
    return db


def copy_db(db: Path, folder: Path) -> Path:
    """A private copy of a closed database (for tests that write)."""
    target = folder / db.name
    shutil.copy(db, target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python -m docret serve`` in a subprocess on a free loopback port."""

    def __init__(
        self, db: Path, *extra: str, timeout: float = 60.0, token: str | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "docret",
                "-d",
                str(db),
                "serve",
                "--port",
                str(self.port),
                *(["--token", token] if token else []),
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docret serve exited: {self.process.stderr.read()}")
            try:
                ready = urllib.request.Request(self.url + "/api/info")
                if token:
                    ready.add_header("Authorization", f"Bearer {token}")
                with urllib.request.urlopen(ready, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("docret serve did not start in time")

    def stop(self) -> str:
        """Stop the server; return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read()

"""docret serve in a real browser: Debian's headless Chromium driven by Selenium.

Builds a tiny index of corpora/sample, starts ``docret serve`` and walks through search,
keyboard navigation, compare, a document and the map (a point drawn, clicking it opens its
document). Screenshots go to $DOCRET_SCREENSHOTS, else to a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

pytest.importorskip("fastapi")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.serve_helpers import (  # noqa: E402
    CHROMEDRIVER,
    CHROMIUM,
    NO_CHROMIUM,
    ROOT,
    LiveServer,
    chromium,
)

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=NO_CHROMIUM)
QUERY = "engine failure on takeoff"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    # $DOCRET_BROWSER_DB: an index of corpora/sample built beforehand (e.g. with the defaults,
    # for the README's screenshots); else a tiny one is built here.
    db = Path(os.environ.get("DOCRET_BROWSER_DB") or tmp_path_factory.mktemp("browser") / "s.db")
    if not db.exists():
        subprocess.run(
            [sys.executable, "-m", "docret", "-d", str(db), "index", "corpora/sample", "--json"]
            + ["--epochs", "2", "--hidden", "64", "--code-size", "8", "--no-pretrain"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    live = LiveServer(db)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    driver = chromium(webdriver, "--window-size=1280,860", logs=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("DOCRET_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait(driver, seconds: float = 30):
    return WebDriverWait(driver, seconds)


def test_search_compare_document_and_map(server, browser, shots):
    b = browser
    b.get(server.url + "/")
    box = b.switch_to.active_element
    assert box.get_attribute("id") == "q"  # the page opens with focus in the search box
    box.send_keys(QUERY + Keys.ENTER)
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "li.hit")))
    assert "q=engine+failure+on+takeoff" in b.current_url
    hits = b.find_elements(By.CSS_SELECTOR, "li.hit")
    matched = int(b.find_element(By.ID, "matched").text.split()[0])
    assert len(hits) == min(10, matched) and len(hits) >= 3
    assert all(h.find_element(By.CSS_SELECTOR, ".title").text for h in hits)
    b.save_screenshot(str(shots / "search.png"))

    b.find_element(By.TAG_NAME, "body").send_keys("j")  # keyboard: j focuses the first hit
    first = b.find_element(By.CSS_SELECTOR, "li.hit .title")
    assert b.switch_to.active_element == first
    b.find_element(By.TAG_NAME, "body").send_keys("/")
    assert b.switch_to.active_element.get_attribute("id") == "q"

    b.find_element(By.LINK_TEXT, "compare with its baseline →").click()
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".columns")))
    columns = b.find_elements(By.CSS_SELECTOR, ".columns section")
    assert [c.find_element(By.TAG_NAME, "h2").text.lower() for c in columns] == [
        "default ranking",
        "bm25",
    ]
    assert all(3 <= len(c.find_elements(By.CSS_SELECTOR, "li.hit")) <= 10 for c in columns)
    b.save_screenshot(str(shots / "compare.png"))

    title = b.find_element(By.CSS_SELECTOR, ".columns li.hit .title")
    expected = title.text
    title.click()
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "pre.text")))
    assert b.find_element(By.CSS_SELECTOR, ".document h1").text == expected
    assert b.find_elements(By.CSS_SELECTOR, ".words li")  # its code's words
    assert len(b.find_elements(By.CSS_SELECTOR, "aside li.hit")) == 10  # more like this
    b.save_screenshot(str(shots / "document.png"))

    b.get(server.url + "/map?q=" + QUERY.replace(" ", "+"))
    canvas = b.find_element(By.ID, "map")
    wait(b).until(lambda d: int(canvas.get_attribute("data-drawn") or 0) > 0)
    assert int(canvas.get_attribute("data-drawn")) == 320
    wait(b).until(lambda d: "ringed" in d.find_element(By.ID, "map-status").text)
    assert len(b.find_elements(By.CSS_SELECTOR, "#legend ul li")) == 8  # the sample's labels
    b.save_screenshot(str(shots / "map.png"))

    before = b.execute_script("return window.docretMap.firstPoint()")
    canvas.send_keys("+")  # keyboard zoom about the centre moves every point outwards...
    zoomed = b.execute_script("return window.docretMap.firstPoint()")
    assert zoomed["id"] == before["id"] and (zoomed["x"], zoomed["y"]) != (before["x"], before["y"])
    canvas.send_keys("0")  # ...and 0 puts it back
    point = b.execute_script("return window.docretMap.firstPoint()")
    assert (point["x"], point["y"]) == (before["x"], before["y"])
    size = canvas.size
    ActionChains(b).move_to_element_with_offset(
        canvas, int(point["x"] - size["width"] / 2), int(point["y"] - size["height"] / 2)
    ).pause(0.3).perform()
    assert not b.find_element(By.ID, "tip").get_attribute("hidden")  # hover shows the title
    ActionChains(b).click().perform()
    wait(b).until(lambda d: "/documents/" in d.current_url)
    opened = unquote(b.current_url.split("/documents/", 1)[1].split("?")[0])
    assert opened == point["id"]

    b.get(server.url + "/info")
    assert b.find_elements(By.CSS_SELECTOR, "svg.chart polyline")  # the training curve
    b.save_screenshot(str(shots / "info.png"))

    severe = [e for e in b.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []  # no script error, no blocked (outside) resource


@pytest.fixture
def phone(browser):
    """The browser as a 390 x 844 phone screen (restored afterwards)."""
    metrics = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def overflow(driver) -> int:
    """How far the page is wider than the screen, in CSS pixels (0: it fits)."""
    return driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def within_screen(driver, css: str) -> bool:
    """Whether the element ``css`` lies wholly inside the screen's width and is visible."""
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]), r = e.getBoundingClientRect();"
        "return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;",
        css,
    )


def test_every_page_fits_a_390px_screen(server, phone, shots):
    b = phone
    q = "?q=" + QUERY.replace(" ", "+")
    b.get(server.url + "/" + q)
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "li.hit")))
    assert b.execute_script("return window.innerWidth") == 390
    assert b.execute_script("return document.documentElement.scrollWidth") <= 390
    for part in ("#q", ".search select", ".search .check", ".search button", "nav"):
        assert within_screen(b, part), part
    b.save_screenshot(str(shots / "search-390.png"))
    first = b.find_element(By.CSS_SELECTOR, "li.hit .title").get_attribute("href")
    pages = {"compare": "/compare" + q, "document": first, "info": "/info", "map": "/map" + q}
    pages["error"] = "/documents/no-such-id" + q
    for name, path in pages.items():
        b.get(path if path.startswith("http") else server.url + path)
        assert overflow(b) == 0, path
        assert within_screen(b, ".search button"), path
        b.save_screenshot(str(shots / f"{name}-390.png"))


def test_j_and_k_move_between_hits_right_after_a_search(server, browser):
    b = browser
    b.get(server.url + "/")
    b.switch_to.active_element.send_keys(QUERY + Keys.ENTER)
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "li.hit")))
    titles = b.find_elements(By.CSS_SELECTOR, "li.hit .title")
    ActionChains(b).send_keys("j").perform()  # to whatever has focus, as a person's keys go
    assert b.switch_to.active_element == titles[0]
    ActionChains(b).send_keys("j").send_keys("j").send_keys("k").perform()
    assert b.switch_to.active_element == titles[1]
    box = b.find_element(By.ID, "q")
    assert box.get_attribute("value") == QUERY  # nothing typed into the box
    box.click()  # the box still takes typing once chosen
    ActionChains(b).send_keys(Keys.END, " jk").perform()
    assert box.get_attribute("value") == QUERY + " jk"


def test_the_map_pans_with_one_finger_and_zooms_with_two(server, browser):
    b = browser
    b.get(server.url + "/map")
    canvas = b.find_element(By.ID, "map")
    wait(b).until(lambda d: int(canvas.get_attribute("data-drawn") or 0) > 0)
    assert canvas.value_of_css_property("touch-action") == "none"
    box = b.execute_script("return arguments[0].getBoundingClientRect().toJSON()", canvas)
    cx, cy = box["left"] + box["width"] / 2, box["top"] + box["height"] / 2

    def touch(kind: str, *points: tuple[float, float]) -> None:
        b.execute_cdp_cmd(
            "Input.dispatchTouchEvent",
            {
                "type": kind,
                "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
            },
        )

    def view() -> dict:
        return b.execute_script("return window.docretMap.view()")

    start = view()
    touch("touchStart", (cx, cy))
    touch("touchMove", (cx + 20, cy + 10))
    touch("touchMove", (cx + 40, cy + 25))
    touch("touchEnd")
    panned = view()
    assert panned["s"] == start["s"]
    assert (panned["tx"] - start["tx"], panned["ty"] - start["ty"]) == pytest.approx((40, 25))
    assert "/documents/" not in b.current_url  # a drag is not a tap on a point

    touch("touchStart", (cx - 50, cy), (cx + 50, cy))
    touch("touchMove", (cx - 75, cy), (cx + 75, cy))
    touch("touchMove", (cx - 100, cy), (cx + 100, cy))
    touch("touchEnd")
    pinched = view()
    assert pinched["s"] == pytest.approx(2 * panned["s"])
    # the point under the fingers' midpoint stays there
    mx, my = cx - box["left"], cy - box["top"]
    before = ((mx - panned["tx"]) / panned["s"], (my - panned["ty"]) / panned["s"])
    after = ((mx - pinched["tx"]) / pinched["s"], (my - pinched["ty"]) / pinched["s"])
    assert after == pytest.approx(before)


def test_a_folder_facet_narrows_the_hits_and_its_chip_removes_the_filter(server, browser):
    b = browser
    b.get(server.url + "/?q=water+temperature&k=30")  # matched in several folders
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))
    # the query's words are marked in the hits' passages
    assert b.find_elements(By.CSS_SELECTOR, "ol.hits li.hit mark")
    facets = b.find_elements(By.CSS_SELECTOR, ".facets a")
    next(a for a in facets if a.text.endswith("gardening")).click()
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".active-filters .chip")))
    ids = [e.text for e in b.find_elements(By.CSS_SELECTOR, "ol.hits li.hit .id")]
    assert ids and all(i.startswith("gardening/") for i in ids)
    b.find_element(By.CSS_SELECTOR, ".active-filters .chip").click()
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))
    assert not b.find_elements(By.CSS_SELECTOR, ".active-filters .chip")
    ids = [e.text for e in b.find_elements(By.CSS_SELECTOR, "ol.hits li.hit .id")]
    assert any(not i.startswith("gardening/") for i in ids)

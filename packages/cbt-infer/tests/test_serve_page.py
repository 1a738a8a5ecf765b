"""The thought-record page in headless Chromium (Debian's chromium and chromium-driver, driven
by Selenium): a record answered as cards, a crisis phrase answered with resources only, the
download holding what was shown, no network beyond the server, and a phone-width layout.
Screenshots are written to each test's tmp dir and checked through the DOM, not by eye; with
$CBT_SCREENSHOTS_DIR set they are copied there too (docs/images/ holds the committed ones:
`CBT_SCREENSHOTS_DIR=docs/images uv run pytest packages/cbt-infer/tests/test_serve_page.py`)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from cbt_infer.safety import NOTICE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytest.importorskip("starlette", reason="extra cbt-infer[serve] not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (Path(CHROMIUM).is_file() and Path(DRIVER).is_file()),
                       reason="no headless Chromium: apt-get install chromium chromium-driver "
                              "(.ci/run installs them)"),
]
STATIC = Path(__file__).resolve().parents[1] / "src/cbt_infer/serve/static"
SITUATION = "My friend forgot my birthday and I keep thinking nobody ever remembers me."


@pytest.fixture
def browser(tmp_path: Path):
    """Headless Chromium with the network off: every address but loopback goes to a proxy
    that is not there. Downloads land in tmp_path/downloads."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--proxy-server=http://127.0.0.1:9", "--window-size=1280,900"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Save the window as tmp_path/name (and into $CBT_SCREENSHOTS_DIR when set)."""
    shot = tmp_path / name
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000  # a page was drawn, not an empty window
    if keep := os.environ.get("CBT_SCREENSHOTS_DIR"):
        shutil.copy(shot, Path(keep) / name)
    return shot


def wait(driver, condition: str, timeout: float = 120):
    """Poll a JavaScript expression until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while not (value := driver.execute_script(f"return {condition};")):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)
    return value


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver, "document.getElementById('status').dataset.state === 'ok'")


def submit_by_keyboard(driver, situation: str, thoughts: str = "") -> None:
    """Type the record and reach the submit button with Tab alone, then press Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.ID, "situation").send_keys(situation)
    driver.find_element(By.ID, "feeling-1").send_keys("hurt")
    driver.find_element(By.ID, "intensity-1").send_keys(Keys.ARROW_RIGHT * 4)
    if thoughts:
        driver.find_element(By.ID, "thoughts").send_keys(thoughts)
    active = driver.switch_to.active_element
    for _ in range(20):
        if active.get_attribute("id") == "submit":
            break
        active.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
    assert active.get_attribute("id") == "submit", "Tab never reached the submit button"
    active.send_keys(Keys.ENTER)
    wait(driver, "['done', 'error'].includes(document.getElementById('answer').dataset.state)")


def downloaded(driver, suffix: str) -> str:
    deadline = time.monotonic() + 20
    while not (found := [p for p in driver.downloads.iterdir() if p.name.endswith(suffix)]):
        assert time.monotonic() < deadline, f"no {suffix} download"
        time.sleep(0.05)
    return found[0].read_text(encoding="utf-8")


def test_a_record_is_answered_as_cards_and_the_download_holds_them(
        browser, serve_on, serve_assessor, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    server = serve_on(serve_assessor)
    open_page(browser, server.url)
    submit_by_keyboard(browser, SITUATION, "Nobody cares about me.")
    answer = browser.find_element(By.ID, "answer")
    assert answer.get_attribute("data-state") == "done"
    assert answer.get_attribute("data-tier") == "none"
    cards = browser.find_elements(By.CSS_SELECTOR, "#cards .card")
    assert cards and all(c.is_displayed() and c.text.strip() for c in cards)
    assert browser.find_element(By.ID, "answer-notice").text == NOTICE
    assert browser.find_element(By.ID, "resources").is_displayed() is False
    browser.find_element(By.ID, "download-md").click()
    browser.find_element(By.ID, "download-json").click()
    record = json.loads(downloaded(browser, ".json"))
    assert record["situation"] == SITUATION and record["feelings"] == [
        {"name": "hurt", "intensity": 70}]
    assert record["thoughts"] == "Nobody cares about me." and record["notice"] == NOTICE
    markdown = downloaded(browser, ".md")
    shown = record["reflection"]  # what the cards show is what both downloads hold
    pieces = [shown["raw"]] if "raw" in shown else [shown["acknowledgement"], shown["closing"]]
    on_page = " ".join(" ".join(c.text for c in cards).split())
    for piece in filter(None, pieces):
        assert " ".join(piece.split()) in on_page and piece in markdown
    assert SITUATION in markdown and "hurt: 70/100" in markdown
    screenshot(browser, tmp_path, "serve-desktop.png")


def test_an_answer_in_the_trained_format_shows_each_distortion_as_a_card(
        browser, serve_on, serve_assessor, tmp_path: Path) -> None:
    """The page's cards for an answer the parser reads whole (the tiny test student cannot
    write one): the result event as the server sends it, fed to the page's own handler."""
    from selenium.webdriver.common.by import By

    from cbt_infer.result import Generation, from_generation
    from cbt_schema import Assessment, Finding
    from cbt_schema.render import render_assessment

    thought = "nobody ever remembers me"
    text = render_assessment(Assessment(
        validation="That sounds really hurtful.", closing="Be gentle with yourself today.",
        findings=[Finding(distortion="overgeneralization", thought=thought,
                          challenge="Who has remembered you before?")]))
    result = from_generation(SITUATION, Generation(text, 40, "stop"), NOTICE, "llama", 99)
    assert result.parsed
    server = serve_on(serve_assessor)
    open_page(browser, server.url)
    browser.find_element(By.ID, "situation").send_keys(SITUATION)
    browser.execute_script(
        "state.record = readRecord(); resetAnswer();"
        "onEvent('partial', {acknowledgement: 'That sounds', findings: [], closing: ''});"
        "onEvent('partial', arguments[0]); onEvent('result', arguments[1]);",
        {"acknowledgement": "That sounds really hurtful.", "closing": "", "findings": [
            {"distortion": "overgeneralization", "title": "Overgeneralization",
             "thought": thought, "challenge": "Who has remembered you before?"}]},
        result.to_dict())
    kinds = [c.get_attribute("data-kind")
             for c in browser.find_elements(By.CSS_SELECTOR, "#cards .card")]
    assert kinds == ["acknowledgement", "distortion", "closing"]
    card = browser.find_element(By.CSS_SELECTOR, ".card[data-kind=distortion]")
    assert card.find_element(By.TAG_NAME, "h3").text == "Overgeneralization"
    assert card.find_element(By.TAG_NAME, "blockquote").text == f"“{thought}”"
    browser.find_element(By.ID, "download-md").click()
    markdown = downloaded(browser, ".md")
    assert "### Overgeneralization" in markdown and f"> “{thought}”" in markdown
    assert "Who has remembered you before?" in markdown and "Be gentle" in markdown
    screenshot(browser, tmp_path, "serve-page.png")


def test_a_crisis_phrase_shows_the_resources_and_no_analysis(
        browser, serve_on, serve_assessor) -> None:
    from selenium.webdriver.common.by import By

    server = serve_on(serve_assessor)
    open_page(browser, server.url)
    submit_by_keyboard(browser, "I can't go on. I want to kill myself.")
    answer = browser.find_element(By.ID, "answer")
    assert answer.get_attribute("data-tier") == "likely"
    resources = browser.find_element(By.ID, "resources")
    assert resources.is_displayed() and "988" in resources.text
    assert "findahelpline.com" in resources.text
    assert browser.find_elements(By.CSS_SELECTOR, "#cards .card") == []
    assert not browser.find_element(By.ID, "after").is_displayed()


def test_the_page_loads_nothing_from_elsewhere_and_fits_a_phone(
        browser, serve_on, serve_assessor, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    server = serve_on(serve_assessor)
    for path in STATIC.iterdir():  # no CDN, font or script from anywhere else
        assert "http://" not in path.read_text() and "https://" not in path.read_text(), path
    browser.set_window_size(390, 844)
    open_page(browser, server.url)
    submit_by_keyboard(browser, "Lately I feel like such a burden to my family.")
    assert browser.find_element(By.ID, "answer").get_attribute("data-tier") == "possible"
    resources = browser.find_element(By.ID, "resources")
    cards = browser.find_elements(By.CSS_SELECTOR, "#cards .card")
    assert resources.is_displayed() and cards  # the resources first, then the analysis
    assert resources.location["y"] < cards[0].location["y"]
    width = browser.execute_script("return window.innerWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    for field in browser.find_elements(By.CSS_SELECTOR, "input, textarea, select, button"):
        if field.is_displayed():
            box = field.rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, field.get_attribute("id")
    unlabelled = browser.execute_script(
        "return [...document.querySelectorAll('input, textarea, select')]"
        ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id)")
    assert unlabelled == []
    screenshot(browser, tmp_path, "serve-phone.png")
    urls = [json.loads(e["message"])["message"]["params"]["request"]["url"]
            for e in browser.get_log("performance")
            if '"Network.requestWillBeSent"' in e["message"]]
    assert urls and all(u.startswith((server.url, "data:", "blob:")) for u in urls), urls
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []

"""The worker's live page in a real browser (Debian chromium, headless) during a replay."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from schemas.i18n import Lang
from simulators.generator import PaymentCycle
from simulators.jsonl import write_jsonl
from simulators.scenario import load_scenario
from streams.harness.embedded import EmbeddedPipeline
from streams.settings import Settings
from tests.support.names import unique
from tests.support.runs import Run

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class UrlObserver:
    """Catches the live page's URL from the pipeline's notices."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.found = threading.Event()

    def started(self, stage: str, total: int | None) -> None:
        return None

    def advanced(self, stage: str, completed: int) -> None:
        return None

    def notice(self, message: str) -> None:
        match = re.search(r"http://\S+/", message)
        if match:
            self.url = match.group(0)
            self.found.set()


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, "chromium and chromedriver are missing: `make tools` installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1800",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def text_of(driver: Any, element_id: str) -> str:
    """An element's text, read in one step (the page redraws itself every second)."""
    text = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.textContent : '';",
        element_id,
    )
    return str(text)


def get_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_page_climbs_live_and_ends_at_142_of_127450(tmp_path: Path) -> None:
    cycle = PaymentCycle(load_scenario("binh-dinh-2023-06"), seed=0)
    events = tmp_path / "events.jsonl"
    with events.open("wb") as f:
        write_jsonl(cycle.events(), f)
    settings = Settings(
        _env_file=None,
        app_id=unique("wm"),
        events_topic=unique("events"),
        dead_letter_topic=unique("dlq"),
        alerts_topic=unique("alerts"),
    )
    observer, processed, checked = UrlObserver(), threading.Event(), threading.Event()

    def hold_the_worker(_: Settings) -> None:
        processed.set()
        checked.wait(120)

    failure: list[BaseException] = []

    def run() -> None:
        try:
            EmbeddedPipeline(settings, observer).run(
                events, tmp_path / "data", on_processed=hold_the_worker
            )
        except BaseException as e:
            failure.append(e)
            processed.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert observer.found.wait(60), "the pipeline never announced the live page"
    assert observer.url is not None
    deadline = time.monotonic() + 60
    while True:  # the worker's web server comes up a moment after it is spawned
        try:
            urllib.request.urlopen(observer.url, timeout=5).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the live page never answered"
            time.sleep(0.3)
    driver = browser()
    try:
        driver.get(observer.url)
        seen: list[str] = []
        while not processed.is_set():
            text = text_of(driver, "headline")
            if not seen or seen[-1] != text:
                seen.append(text)
            time.sleep(0.5)
        assert not failure, failure
        time.sleep(2.5)  # two more polls after the last event was stored
        final = text_of(driver, "headline-52")  # Vietnamese by default
        lang_of_page = driver.execute_script("return document.documentElement.lang")
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "live-page.png"))
        # The page's language switch: English, read from the DOM after the next refreshes.
        driver.find_element("id", "lang-en").click()
        time.sleep(2.5)
        english = text_of(driver, "headline-52"), text_of(driver, "period")
        switch_back = driver.execute_script(  # one step: the redraw replaces the element
            "const e = document.getElementById('lang-vi'); return e ? e.href : null;"
        )

        # The API behind the page validates its parameters.
        base = observer.url.rstrip("/")
        status, body = get_json(f"{base}/api/snapshot?period=2023-06%27%20OR%201%3D1")
        assert status == 400 and "period must look like" in body["error"]
        status, body = get_json(f"{base}/api/panel/nation_stat?commune=1%20OR%201%3D1")
        assert status == 400 and "commune" in body["error"]
        status, body = get_json(f"{base}/api/panel/drop_everything")
        assert status == 400 and "no panel" in body["error"]
        status, body = get_json(f"{base}/api/panel/nation_stat?period=2023-06")
        assert status == 200 and body["rows"][0]["due"] == 127_450
    finally:
        checked.set()
        driver.quit()
        thread.join(120)
    assert final == "142 / 127.450 (0,11%)" and lang_of_page == "vi"
    assert english == ("142 / 127,450 (0.11%)", "2023-06")
    assert switch_back is not None and switch_back.endswith("?lang=vi")
    numbers = {int(m.group(1).replace(".", "")) for t in seen if (m := re.search(r"/ ([\d.]+)", t))}
    assert len(numbers) >= 3, f"the counts did not climb: {seen}"
    assert (ARTIFACTS / "live-page.png").stat().st_size > 10_000


def test_the_static_report_shows_the_same_figures(drill_run: Run, tmp_path: Path) -> None:
    from streams.cli.main import main

    out = tmp_path / "report.html"
    assert main(["report", "--data-dir", str(drill_run.data_dir), "--out", str(out)]) == 0
    driver = browser()
    try:
        driver.get(out.as_uri())
        text = text_of(driver, "headline")
        rows = driver.find_elements("css selector", "#communes tbody tr")
    finally:
        driver.quit()
    june = next(r for r in drill_run.truth["periods"] if r["period"] == "2023-06")
    assert text == Lang("vi").counts(june["beneficiaries_paid_cashless"], june["beneficiaries_due"])
    assert len(rows) == len(drill_run.truth["coverage"])

"""The live line page in a real headless browser (Debian chromium + chromium-driver): it
loads, shows an injected SPC violation, and redraws when new records are posted."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dashboards import line_data
from tests.support.controlplane import in_ci
from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "line-page.png"


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        if in_ci():
            pytest.fail("chromium and chromium-driver are required in CI (make system-deps)")
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1200,1600")
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path, f"sqlite:///{tmp_path / 'mes.db'}") as app:
        yield app


def test_line_page_shows_violations_and_updates_as_data_arrives(
    browser: Any, served: ServedApp
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = served.line_url("").rstrip("/")
    line_data.in_control_phase(base)
    browser.get(f"{served.url}/lines/{LINE.namespace}/{LINE.name}")
    wait = WebDriverWait(browser, 20)

    # Loaded: the in-control phase is charted, no alarm, no OEE yet.
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#chart-ring_diameter svg"))
    assert browser.find_element(By.ID, "title").text == f"{LINE.namespace} / {LINE.name}"
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-alarms") == "0"
    assert not browser.find_elements(By.CSS_SELECTOR, "circle.flagged")
    points = browser.find_elements(
        By.CSS_SELECTOR, '#chart-ring_diameter svg[data-chart="xbar"] circle'
    )
    assert len(points) == 25

    # The injected violation: +0.02 mm on 10 subgroups, flagged and listed without a reload.
    line_data.shifted_phase(base)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "li.alarm"))
    alarms = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "li.alarm")]
    assert any(a.startswith("ring_diameter xbar subgroup 35: nelson-1") for a in alarms), alarms
    assert browser.find_elements(By.CSS_SELECTOR, 'svg[data-chart="xbar"] circle.flagged')

    # New data again: OEE from a shift of machine states and counts appears.
    line_data.machine_shift(base)
    wait.until(lambda b: b.find_elements(By.ID, "oee-oee"))
    assert "81.7 %" in browser.find_element(By.ID, "oee-oee").text
    points = browser.find_elements(
        By.CSS_SELECTOR, '#chart-ring_diameter svg[data-chart="xbar"] circle'
    )
    assert len(points) == 35
    window = browser.find_element(By.ID, "oee-window").text
    assert window.startswith("over 2026-11-20T06:00:00+00:00 to 2026-11-20T14:00:00+00:00"), window
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-stale") == "false"
    # docs/line-page.png is refreshed on request only, so a test run leaves the tree clean.
    if os.environ.get("LINEOPS_UPDATE_SCREENSHOT") == "1":
        browser.save_screenshot(str(SCREENSHOT))

    # The line goes (its ProductionLine deleted): the charts stay, under a banner saying
    # they are not current, instead of looking live.
    async def remove() -> None:
        served.app.remove_line(LINE)

    served.run(remove())
    wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-stale") == "true")
    banner = browser.find_element(By.ID, "stale").text
    assert "the data plane answered 404" in banner, banner
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-ring_diameter svg")

"""The quick-start report in a real browser: headless Chromium (Debian's chromium + chromium-driver) via Selenium.

Needs ``apt-get install -y chromium chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``)
and Selenium from requirements-test.txt. Selenium is pointed at those two binaries and
``SE_OFFLINE=true`` is set, so Selenium Manager never downloads a browser or a driver.
Screenshots go to ``tests/artifacts/`` and their paths are printed to the terminal.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _report_fixtures import shared_quickstart, shared_rich

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="/usr/bin/chromium is absent; install Debian's browser and driver: "
           "apt-get update && apt-get install -y chromium chromium-driver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in requirements-test.txt")
    from selenium.webdriver.chrome.service import Service

    assert CHROMEDRIVER.is_file(), ("/usr/bin/chromium is installed but /usr/bin/chromedriver is not: "
                                    "apt-get install -y chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _check_page(driver, path: Path) -> dict:
    """Load ``path``; return the console log, image states, TOC targets and the page height."""
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    info = driver.execute_script("""
        const imgs = Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);
        const toc = Array.from(document.querySelectorAll('#toc a')).map(a => {
            const id = decodeURIComponent(a.getAttribute('href').slice(1));
            return [a.getAttribute('href'), document.getElementById(id) !== null];
        });
        return {imgs: imgs, toc: toc, height: document.documentElement.scrollHeight,
                sections: document.querySelectorAll('main section').length};
    """)
    info["log"] = driver.get_log("browser")
    return info


def _screenshot(driver, name: str, height: int, capsys) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    driver.set_window_size(1400, max(1000, min(int(height) + 40, 14000)))
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.execute_script("return window.scrollY") == 0
    assert driver.save_screenshot(str(out))
    driver.set_window_size(1400, 1000)
    assert out.stat().st_size > 20_000
    with capsys.disabled():
        print(f"\nreport screenshot: {out}")
    return out


def _assert_clean(info: dict) -> None:
    severe = [e for e in info["log"] if e.get("level") == "SEVERE"]
    assert not severe, f"console errors: {severe}"
    assert info["imgs"], "the report shows no figure"
    bad = [alt for complete, width, alt in info["imgs"] if not complete or width <= 0]
    assert not bad, f"figures that did not load: {bad}"
    assert info["toc"] and len(info["toc"]) == info["sections"]
    missing = [href for href, ok in info["toc"] if not ok]
    assert not missing, f"table-of-contents links without a target: {missing}"


def test_quickstart_report_in_chromium(browser, capsys):
    _, summary = shared_quickstart()
    info = _check_page(browser, Path(summary["report_path"]))
    _assert_clean(info)

    # the page's script: sorting the score column and filtering rows work (and raise nothing)
    by = pytest.importorskip("selenium.webdriver.common.by").By
    head = browser.find_element(by.XPATH, "//table[@id='results-table']//th[normalize-space()='score']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", head)
    head.click()
    vals = browser.execute_script("""
        const col = Array.from(document.querySelectorAll('#results-table thead th'))
            .findIndex(th => th.textContent.trim() === 'score');
        return Array.from(document.querySelectorAll('#results-table tbody tr'))
            .map(r => parseFloat(r.cells[col].getAttribute('data-v')));
    """)
    assert vals == sorted(vals) and len(vals) == summary["n_rows"]
    box = browser.find_element(by.CSS_SELECTOR, "input[data-filter='results-table']")
    import pandas as pd

    df = pd.read_parquet(summary["results_path"])
    target = df["analysis"].iloc[0]
    box.send_keys(target)
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#results-table tbody tr'))"
        ".filter(r => r.style.display !== 'none').length")
    assert shown == int(df["analysis"].str.contains(target, regex=False).sum()) > 0
    assert not [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    browser.refresh()
    _screenshot(browser, "report-quickstart.png", info["height"], capsys)


def test_rich_report_in_chromium(browser, capsys):
    """Every section drawing (brain maps on the MNI template included) loads in the browser."""
    pytest.importorskip("nilearn", reason="the brain-map sections draw with nilearn (requirements-test.txt)")
    _, _, path = shared_rich()
    info = _check_page(browser, path)
    _assert_clean(info)
    assert len(info["imgs"]) == 13  # 2 profiles, 1 matrix, 1 RDM grid, 2 MDS, 5 brain maps, 2 R² maps
    _screenshot(browser, "report-rich.png", info["height"], capsys)


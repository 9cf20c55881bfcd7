"""Fixtures for the real-browser suite: one `streamlit run app.py` per session, one Chromium per
session, a fresh browser context (= a fresh Streamlit session) per test.

Set E2E_BASE_URL to drive an app that is already running (e.g. a Space) instead of starting one.
"""
from __future__ import annotations

import os

import pytest

from gan_devkit import browser as harness

_SKIP = harness.missing_browser_reason()


def pytest_collection_modifyitems(config, items):
    if _SKIP:
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=_SKIP))


@pytest.fixture(scope="session")
def base_url():
    if os.environ.get("E2E_BASE_URL"):
        yield os.environ["E2E_BASE_URL"].rstrip("/")
        return
    harness.ARTIFACTS.mkdir(exist_ok=True)
    proc, url = harness.start_streamlit(log_path=harness.ARTIFACTS / "e2e-streamlit.log")
    try:
        harness.wait_health(url, proc, timeout=90)
        yield url
    finally:
        harness.stop(proc)


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver for the whole session: its sync API cannot be started twice at once."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    b = harness.launch_chromium(playwright)
    yield b
    b.close()


@pytest.fixture(scope="session")
def warm_app(browser, base_url):
    """Open the app once before the tests: the very first session of a fresh server pays torch's
    import, which would otherwise count against the first test's timeouts."""
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(base_url + "/", wait_until="domcontentloaded", timeout=harness.DEFAULT_TIMEOUT_MS)
    harness.wait_for_run(pg)
    ctx.close()
    return base_url


@pytest.fixture
def page(browser, warm_app, request):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    ctx.set_default_timeout(harness.DEFAULT_TIMEOUT_MS)
    pg = ctx.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:  # keep what the browser saw when a test fails
        try:
            harness.screenshot(pg, f"FAILED-{request.node.name}")
        except Exception:
            pass
    ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def goto(page, base_url):
    """goto("train") opens that page and waits until Streamlit finished running it."""
    def _goto(page_path: str = ""):
        harness.goto(page, base_url, page_path)
        return page
    return _goto


@pytest.fixture
def assert_no_exception(page):
    return lambda: harness.assert_no_exception(page)


@pytest.fixture
def screenshot(page):
    """screenshot("name") -> artifacts/screenshots/name.png (full page)."""
    return lambda name, full_page=True: harness.screenshot(page, name, full_page)

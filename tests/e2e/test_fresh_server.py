"""A fresh server's first visitor: the first page draws before torch has loaded (ui.layout.preload_compute), and
the sidebar's device badge then comes by itself, without a click (ui.layout.device_badge_after_page)."""
import json

import pytest

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))


def test_the_first_visitor_sees_the_device_badge_without_a_click(browser):
    if harness.os.environ.get("E2E_BASE_URL"):
        pytest.skip("needs a server this test starts itself")
    proc, url = harness.start_streamlit(log_path=harness.ARTIFACTS / "e2e-fresh.log")
    try:
        harness.wait_health(url, proc, timeout=90)
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
        try:
            page = ctx.new_page()
            sent = []  # what the browser sends the server: a run asked for (a click, a fragment's timer) is one
            page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
            harness.goto(page, url, "")
            assert page.locator('[data-testid="stMain"] h1').first.is_visible()
            badge = page.locator('[data-testid="stSidebar"]').get_by_text(EN["app.device"].split("{")[0].strip())
            badge.first.wait_for(timeout=harness.DEFAULT_TIMEOUT_MS)  # torch loads in the background: no input
            harness.assert_no_exception(page)
            page.wait_for_timeout(1000)
            asked = len(sent)
            page.wait_for_timeout(3000)  # the poller (every 0.5 s) is gone: no more runs while the reader reads
            assert len(sent) - asked <= 1, len(sent) - asked
            harness.screenshot(page, "fresh-server-first-page")
        finally:
            ctx.close()
    finally:
        harness.stop(proc)

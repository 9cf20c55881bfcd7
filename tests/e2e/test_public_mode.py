"""The app as the Space runs it (the Dockerfile's environment): a classroom, not a developer tool."""
import json

import pytest

from gan_devkit import browser as harness
from gan_devkit.space import dockerfile_env

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
# what the Dockerfile sets (ENV GAN_PUBLIC, STREAMLIT_CLIENT_*, ...): read from it, so the test follows it
SPACE_ENV = dockerfile_env()


def test_the_public_space_hides_the_developer_tools_and_the_servers_files(browser, tmp_path):
    if harness.os.environ.get("E2E_BASE_URL"):
        pytest.skip("needs a server this test starts itself")
    assert SPACE_ENV.get("GAN_PUBLIC") == "1" and "STREAMLIT_CLIENT_TOOLBAR_MODE" in SPACE_ENV
    proc, url = harness.start_streamlit(log_path=harness.ARTIFACTS / "e2e-public.log",
                                        env={**SPACE_ENV, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path)})
    try:
        harness.wait_health(url, proc, timeout=90)
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
        try:
            page = ctx.new_page()
            harness.goto(page, url, "latent")
            assert page.get_by_text("Deploy", exact=True).count() == 0  # no Deploy button
            menu = page.locator('[data-testid="stMainMenu"]')
            if menu.count():  # the viewer's menu, if any, has no developer entries
                menu.first.click()
                page.wait_for_timeout(300)
                assert page.get_by_text("Clear cache").count() == 0
                page.keyboard.press("Escape")
            # a visitor types a server path into the model-source box: refused as "not a repo id"
            page.get_by_text(EN["latent.sources"]).first.click()
            box = page.locator('[data-testid="stTextInput"] input').last
            box.fill("/etc")
            box.press("Enter")
            harness.wait_for_run(page)
            text = page.locator('[data-testid="stMain"]').inner_text()
            assert "is neither a local folder nor a valid Hub repo id" in text.replace("\n", " ")
            assert "has no config.json" not in text  # the server's /etc was never looked at
            harness.assert_no_exception(page)
            harness.screenshot(page, "public-space-latent")
        finally:
            ctx.close()
    finally:
        harness.stop(proc)

"""Each page in each of the app's languages in a real Chromium (screenshots saved for a person to
look at), right to left where the language is, and the browser's language choosing the first one."""
import json

import pytest

from playwright.sync_api import expect

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

LOCALES = harness.ROOT / "locales"
TABLES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(LOCALES.glob("*.json"))}
PAGES = [("", "nav.architectures"), ("train", "nav.train"), ("latent", "nav.latent"), ("style", "nav.style")]
TITLES = {"": "arch.title", "train": "nav.train", "latent": "latent.title", "style": "nav.style"}
WAIT_MS = 30_000


@pytest.mark.parametrize("lang", sorted(TABLES))
def test_every_page_in_every_language(page, goto, assert_no_exception, screenshot, lang):
    words = TABLES[lang]
    direction = "rtl" if words.get("_dir") == "rtl" else "ltr"
    goto(f"?lang={lang}")
    nav = page.locator('[data-testid="stSidebarNavItems"]')
    for url_path, key in PAGES:
        if url_path:
            harness.sidebar_nav_links(page).filter(has_text=words[key]).first.click()
            page.wait_for_url(f"**/{url_path}*")
            harness.wait_for_run(page)
        assert_no_exception()
        text = nav.inner_text()
        assert all(words[k] in text for _, k in PAGES), (lang, text)
        # waiting checks: on a busy machine the page's run may start after wait_for_run's settle
        # (then the title and the stylesheet are the page before's for a moment)
        h1 = page.locator('[data-testid="stMain"] h1').first
        expect(h1).to_have_text(words[TITLES[url_path]].strip(), timeout=WAIT_MS)
        expect(page.locator('[data-testid="stMain"]')).to_have_css("direction", direction, timeout=WAIT_MS)
        if url_path == "train":  # a widget's help, drawn in a tooltip outside the page's containers
            page.locator('[data-testid="stSidebar"] [data-testid="stTooltipIcon"]').first.hover()
            tip = page.locator('[data-testid="stTooltipContent"]').first
            expect(tip).to_have_css("direction", direction, timeout=WAIT_MS)
            page.mouse.move(0, 0)
        screenshot(f"lang-{lang}-{url_path or 'architectures'}")


@pytest.mark.parametrize("locale, lang", [("uk-UA", "uk"), ("fa-IR", "fa"), ("he-IL", "he"), ("de-DE", "en")])
def test_the_browsers_language_opens_the_app_in_it(browser, warm_app, locale, lang):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)
    try:
        pg = ctx.new_page()
        harness.goto(pg, warm_app, "")
        assert pg.locator('[data-testid="stMain"] h1').first.inner_text().strip() == TABLES[lang]["arch.title"]
        # a link's ?lang= wins over the browser
        harness.goto(pg, warm_app, "?lang=en")
        assert pg.locator('[data-testid="stMain"] h1').first.inner_text().strip() == TABLES["en"]["arch.title"]
    finally:
        ctx.close()

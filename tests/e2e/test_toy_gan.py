"""The architectures page's live 2-D toy GAN in a real browser, as a teacher shows it: its tab opens with the plane
drawn, Play trains (the iteration counter climbs on its own), Pause freezes it, Step moves exactly one tick's
iterations, and the mode-collapse button starts a fresh run playing. In English and in Persian (right to left)."""
import json

import pytest
from playwright.sync_api import expect

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

WORDS = {lang: json.loads((harness.ROOT / "locales" / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("en", "fa")}
WAIT_MS = 30_000


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_toy_tab_plays_pauses_steps_and_loads_the_collapse_preset(page, goto, assert_no_exception, screenshot, lang):
    words = WORDS[lang]
    iteration = words["arch.toy.iteration"]

    def button(key):
        return page.get_by_role("button", name=words[key], exact=True)

    goto(f"?lang={lang}")
    page.get_by_role("tab", name=words["arch.tab.toy"]).click()
    button("arch.toy.play").wait_for(timeout=WAIT_MS)
    harness.wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=WAIT_MS)  # the plane
    expect(main).to_have_css("direction", "rtl" if lang == "fa" else "ltr", timeout=WAIT_MS)
    assert harness.metric_int(page, iteration) == 0

    button("arch.toy.play").click()
    first = harness.wait_metric_above(page, iteration, 0)
    harness.wait_metric_above(page, iteration, first)  # it keeps training on its own, tick after tick
    assert_no_exception()

    button("arch.toy.pause").click()
    button("arch.toy.play").wait_for(timeout=WAIT_MS)
    harness.wait_for_run(page)
    # the last frame of the run may still be on its way: the counter must come to rest, and then stay
    readings = [harness.metric_int(page, iteration)]
    while len(readings) < 10 and (len(readings) < 2 or readings[-1] != readings[-2]):
        page.wait_for_timeout(1500)
        readings.append(harness.metric_int(page, iteration))
    frozen = readings[-1]
    assert readings[-2] == frozen, f"the toy kept training while paused: {readings}"
    screenshot(f"toy-{lang}-paused")

    button("arch.toy.step").click()  # one tick: the slider's iterations per tick, 10 by default
    expect(page.locator('[data-testid="stMetric"]').filter(has_text=iteration).locator(
        '[data-testid="stMetricValue"]')).to_have_text(str(frozen + 10), timeout=WAIT_MS)

    button("arch.toy.preset_collapse").click()  # a fresh run of the collapse preset, playing
    button("arch.toy.pause").wait_for(timeout=WAIT_MS)
    harness.wait_metric_above(page, iteration, 0)
    assert_no_exception()

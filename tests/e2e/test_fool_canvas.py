""""Fool the discriminator" in a real browser: one Step builds a D, strokes drawn with the mouse on the
canvas (streamlit-drawable-canvas under `streamlit run`) come back as a 28x28 digit, and the current
D's score and the digit classifier's guess appear beside it."""
import json
import re

import pytest

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
SEVEN = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]  # a 7, as fractions of the canvas


def steady_box(page, canvas, polls: int = 50) -> dict:
    """The canvas's box once it stops moving (two reads 100 ms apart agree): a picture loading above
    it shifts the page, and strokes aimed at the old box miss (a 7 without its bar reads as a 1)."""
    box = canvas.bounding_box()
    for _ in range(polls):
        page.wait_for_timeout(100)
        again = canvas.bounding_box()
        if again == box:
            break
        box = again
    return box


def draw(page, canvas, points):
    box = steady_box(page, canvas)
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
        for i in range(1, 13):  # a pen moves in small steps: the canvas draws the path it sees
            page.mouse.move(x0 + (x1 - x0) * i / 12, y0 + (y1 - y0) * i / 12)
    page.mouse.up()


def test_draw_a_seven_and_see_ds_score_and_the_guess(page, goto, assert_no_exception, screenshot):
    goto("train")
    page.get_by_role("button", name=EN["train.step"]).click()  # a D to ask
    harness.wait_for_run(page)
    page.get_by_text(EN["train.fool.title"], exact=True).click()
    harness.wait_for_run(page)
    canvas = page.locator("canvas.upper-canvas")  # fabric.js's input layer, inside the component's shadow root
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # here: where playwright is absent, the test is skipped
    seen = page.get_by_text(EN["train.fool.seen"])  # the drawing came back to Python as a 28x28 digit
    for attempt in range(3):
        # The same strokes again where none came back: once in a full CI run (2026-12-04, the suite's e2e tests
        # on 2 busy cores) a first drawing never reached Python in 60 s, where the test alone passed three times
        # of three; a person whose stroke did not take draws it again, over the same place (still a 7).
        draw(page, canvas, SEVEN)
        try:
            seen.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    harness.wait_for_run(page)
    guess = harness.metric_text(page, EN["train.fool.classifier"])
    score = harness.metric_text(page, EN["train.fool.d_prob"])
    assert re.fullmatch(r"7 · \d{1,3}%", guess), guess
    assert re.fullmatch(r"\d{1,3}%", score), score
    page.get_by_text(re.compile(r"^For comparison, D on 64 real digits")).wait_for()
    assert_no_exception()
    screenshot("fool-the-discriminator")

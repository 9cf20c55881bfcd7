"""The latent-space page in a real browser: the seed grid draws, picking endpoints A and B from the
grid redraws the interpolation strips of both face generators."""
import json

import pytest

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))


def number_value(page, label):
    box = page.locator('[data-testid="stNumberInput"]').filter(has_text=label).first
    return box.locator("input").input_value()


def number_value_after_run(page, label, want, timeout_ms=30_000):
    """The number input's value once it reads `want` or `timeout_ms` has passed: on a busy machine the rerun a
    click starts can begin after wait_for_run's short settle, and a read then sees the value from before it."""
    waited = 0
    while (value := number_value(page, label)) != want and waited < timeout_ms:
        page.wait_for_timeout(200)
        waited += 200
    return value


def image_srcs(page):
    return [i.get_attribute("src") for i in page.locator('[data-testid="stMain"] img').all()]


def test_face_interpolation(page, goto, assert_no_exception, screenshot):
    goto("latent")
    assert_no_exception()
    page.get_by_text(EN["latent.grid"]).wait_for()
    # grid + one strip per model; on a busy machine the <img> tags arrive a moment after the run ends
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"stMain\"] img').length >= n", arg=16 + 2)
    before = image_srcs(page)
    assert number_value(page, EN["latent.seed_a"]) == "0"

    # endpoints from the grid: A = seed 5, B = seed 9 (the 6th "A" and the 10th "B" button)
    page.get_by_role("button", name="A", exact=True).nth(5).click()
    harness.wait_for_run(page)
    page.get_by_role("button", name="B", exact=True).nth(9).click()
    harness.wait_for_run(page)
    assert number_value_after_run(page, EN["latent.seed_a"], "5") == "5"
    assert number_value_after_run(page, EN["latent.seed_b"], "9") == "9"
    harness.wait_for_run(page)
    after = image_srcs(page)
    assert set(after) - set(before), "the interpolation strips did not change with new endpoints"
    assert page.get_by_role("button", name=EN["latent.download_gif"]).count() == 1
    assert_no_exception()
    screenshot("latent-interpolation")


# Each character of `needle` inside the first element `selector` finds, as drawn: its left edge and its line's top.
# Bidi controls (isolates, marks) take no place and are skipped.
CHARACTER_BOXES = """([selector, needle]) => {
  const el = document.querySelector(selector), walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const chars = [];
  while (walker.nextNode())
    for (let i = 0; i < walker.currentNode.data.length; i++)
      if (!/[\u2066-\u2069\u200e\u200f]/.test(walker.currentNode.data[i])) chars.push([walker.currentNode, i]);
  const start = chars.map(([n, i]) => n.data[i]).join("").indexOf(needle);
  if (start < 0) return null;
  return chars.slice(start, start + needle.length).map(([node, i]) => {
    const range = document.createRange();
    range.setStart(node, i); range.setEnd(node, i + 1);
    const box = range.getBoundingClientRect();
    return [box.left, Math.round(box.top)];
  });
}"""


def reads_left_to_right(boxes):
    """True when, line by line, each character is drawn right of the one before it (a path in order)."""
    return all(b[0] > a[0] for a, b in zip(boxes, boxes[1:]) if a[1] == b[1])


@pytest.mark.parametrize("lang", ["he", "fa"])
def test_a_config_json_the_network_refuses_is_explained_right_to_left(page, goto, assert_no_exception, screenshot,
                                                                      tmp_path, lang):
    """A teacher types a folder whose config.json asks a face DCGAN with an empty layer: the Hebrew (or Persian) page
    says why in its language, the network's reason included, with the path as typed, and keeps drawing with the
    bundled weights."""
    from gan_core.hub import save_model
    from gan_core.models import DCGANGenerator64
    from gan_devkit.model_folder import with_config
    words = json.loads((harness.ROOT / "locales" / f"{lang}.json").read_text(encoding="utf-8"))
    folder = with_config(save_model(DCGANGenerator64(width=4), tmp_path / "empty"), width=0)
    goto(f"latent?lang={lang}")
    page.get_by_text(words["latent.grid"]).wait_for()
    page.get_by_text(words["latent.sources"]).click()
    box = page.locator('[data-testid="stTextInput"] input').first
    box.fill(str(folder))
    box.press("Enter")
    harness.wait_for_run(page)
    warning = page.locator('[data-testid="stAlertContentWarning"]').filter(has_text=words["msg.model.empty_layer"])
    warning.first.wait_for(timeout=60_000)
    text = warning.first.inner_text()
    assert str(folder) in text and "a layer with no weights" not in text and "does not fit" not in text, text
    # The path reads as typed inside the right-to-left sentence: its leading "/" left of "tmp", not carried to its far
    # end, and "/config.json" after the folder (both were, before 2026-12-07).
    boxes = page.evaluate(CHARACTER_BOXES, ['[data-testid="stAlertContentWarning"]', f"{folder}/config.json"])
    assert boxes and boxes[0][1] == boxes[4][1] and reads_left_to_right(boxes), boxes
    assert box.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"stMain\"] img').length >= n", arg=16 + 2)
    assert_no_exception()
    screenshot(f"latent-refused-config-{lang}")

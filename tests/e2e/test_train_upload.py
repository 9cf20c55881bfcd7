"""Your own pictures in a real browser: upload a .zip (with a few hostile members), see the preview and
the skip reasons, train briefly, and open the trained generator on the latent page."""
import json

import pytest

from gan_devkit import browser as harness
from gan_devkit.archives import emoji_zip

pytestmark = pytest.mark.e2e


def zipped(path):
    path.write_bytes(emoji_zip(40, (("../escape.png", b"\x89PNG"), ("notes.txt", b"not a picture")), "my-emoji", step=7))
    return path


EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))


def test_upload_train_and_walk_the_latent_space(page, goto, assert_no_exception, screenshot, tmp_path):
    goto("train")
    page.get_by_text(EN["data.source.upload"], exact=True).click()
    harness.wait_for_run(page)
    page.get_by_test_id("stMainBlockContainer").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(zipped(tmp_path / "mine.zip")))
    page.get_by_text("2 files were skipped").wait_for(timeout=60_000)
    page.get_by_text("as the networks see them", exact=False).first.wait_for()
    assert page.get_by_text("unsafe name").count() >= 1 and page.get_by_text("not an image file").count() >= 1
    # 28 px keeps the run light on 2 shared cores
    page.get_by_text("28×28", exact=True).click()
    harness.wait_for_run(page)
    assert_no_exception()
    screenshot("train-upload-preview")

    page.get_by_role("button", name=EN["train.start"]).click()
    for _ in range(450):  # up to 90 s: 2 shared cores are slow when the machine is busy
        page.wait_for_timeout(200)
        if harness.metric_int(page, EN["train.steps"]) >= 10:
            break
    page.get_by_role("button", name=EN["train.pause"]).click()
    harness.wait_for_run(page)
    assert harness.metric_int(page, EN["train.steps"]) >= 10
    assert page.get_by_text("The digit classifier's meter is for MNIST digits", exact=False).count() >= 1
    screenshot("train-upload-trained")

    page.get_by_role("button", name=EN["train.open_latent"]).click()
    page.get_by_text(EN["latent.source.own"], exact=True).wait_for(timeout=60_000)
    harness.wait_for_run(page)
    assert "/latent" in page.url
    assert page.get_by_text("My DCGAN", exact=False).count() >= 1
    assert page.locator('[data-testid="stMain"] img').count() >= 16, "the seed grid of my own generator"
    assert_no_exception()
    screenshot("latent-own-generator")

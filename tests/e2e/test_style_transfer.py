"""The style page in a real browser: upload a content image (a PNG made here), AdaIN paints it."""
import json

import numpy as np
import pytest
from PIL import Image

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))


@pytest.fixture
def small_png(tmp_path):
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.stack([x * 2, y * 2, (x + y) % 256], -1).astype(np.uint8)   # a gradient with some edges
    path = tmp_path / "my photo.png"
    Image.fromarray(rgb).save(path)
    return path


def test_adain_with_upload(page, goto, assert_no_exception, screenshot, small_png):
    goto("style")
    assert_no_exception()
    harness.choose_selectbox(page, EN["style.content"], EN["style.upload_option"], scope='[data-testid="stMain"]')
    page.get_by_text(EN["style.upload_hint"]).wait_for()

    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(small_png))
    harness.wait_for_run(page)
    page.get_by_text(small_png.name).wait_for()                      # the uploader lists our file
    after = page.locator('[data-testid="stImage"]').filter(has_text=EN["style.after"])
    after.first.wait_for()
    img = after.first.locator("img").element_handle()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img)   # the painted image decoded
    assert page.get_by_role("button", name=EN["style.download"]).count() >= 1
    assert page.get_by_text(EN["style.need_both"]).count() == 0
    assert_no_exception()
    screenshot("style-adain-upload")

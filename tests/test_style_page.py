"""The style-transfer page under streamlit.testing: renders, AdaIN result, a Gatys run started and stopped."""
import pytest
from streamlit.testing.v1 import AppTest


@pytest.fixture
def at(root, monkeypatch):
    monkeypatch.chdir(root)
    at = AppTest.from_file(str(root / "views" / "4_style.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_renders_with_bundled_images(at):
    assert at.title[0].value
    assert [s.value for s in at.selectbox][:2] == ["grace_hopper", "starry_night"]  # file stems, shown by name
    assert [s.format_func(s.value) for s in at.selectbox][:2] == ["Grace Hopper", "The Starry Night"]
    assert len(at.tabs) == 2
    assert any(b.label == "Start Gatys" for b in at.button)
    assert at.get("download_button"), "the AdaIN result offers a download"
    assert len(at.get("image")) >= 4  # content, style, before/after


def test_gatys_start_then_stop_keeps_the_best_image(at):
    at.select_slider(key="style.size").set_value(128).run()
    at.slider(key="style.steps").set_value(500).run()  # more than one ~1 s chunk can do, even on a fast machine
    at.button(key="style.start").click().run()  # the fragment runs one chunk of ~1 s inline
    assert not at.exception, at.exception
    run = at.session_state["style.run"].transfer
    assert 1 <= run.step_count < 500
    at.button(key="style.stop").click().run()
    assert not at.exception, at.exception
    assert at.session_state["style.running"] is False
    assert run.best_image().shape[2] == 3 and run.best_loss < float("inf")
    assert at.get("plotly_chart")


def test_upload_option_asks_for_a_file(at):
    at.selectbox(key="style.pick_content").set_value("upload").run()
    assert not at.exception, at.exception
    assert any("Pick a content image" in w.value for w in at.warning)


def test_a_bad_upload_says_why_and_keeps_the_page(at):
    """Not an image: a clear error naming the file (in the user's language), no traceback, nothing run."""
    at.selectbox(key="style.pick_content").set_value("upload").run()
    at.file_uploader(key="style.upload_content").set_value(("notes.png", b"not a picture" * 20, "image/png")).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "notes.png" in errors and "not an image we can read" in errors
    assert any("Pick a content image" in w.value for w in at.warning)  # the transfer waits for a usable pair
    assert "style.run" not in at.session_state

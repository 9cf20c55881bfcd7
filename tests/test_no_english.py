"""Not one English sentence on a page in another language: every page, in every non-English locale,
in the states a class sees (before and after Start, after a bad upload, after a bad model source),
scanned for English words in every element's text, plotly figure texts and Graphviz labels."""
import json

import pytest
from huggingface_hub import constants
from streamlit.testing.v1 import AppTest

from gan_core import registry
from gan_devkit.english_scan import english_words, visible_texts
from ui.i18n import LOCALES, languages

OTHER = [lang for lang in languages() if lang != "en"]
BAD_IMAGE = ("holiday.png", b"this is not a picture at all" * 10, "image/png")
BAD_CONFIG = ("run.json", b'{"model": "mlp", "batch_size": 0}', "application/json")


def table(lang: str) -> dict:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("GAN_FACE_DCGAN_REPO", raising=False)
    monkeypatch.delenv("GAN_FACE_WGAN_REPO", raising=False)


def app(root, lang: str) -> AppTest:
    at = AppTest.from_file(str(root / "app.py"), default_timeout=180)
    at.session_state["lang"] = lang
    return at.run()


def states(root, lang: str):
    """(name, texts) for each state of each page a class goes through."""
    words = table(lang)
    at = app(root, lang)
    for tab in ("basics", "toy", "models", "problems"):
        at.session_state["arch.tab"] = words[f"arch.tab.{tab}"]
        at.run()
        if tab == "toy":
            at.button(key="toy.b.step").click().run()
        if tab == "models":
            for model in registry.offered("arch"):
                at.radio(key="arch.design").set_value(model).run()
                yield f"arch.models.{model}", visible_texts(at)
        yield f"arch.{tab}", visible_texts(at)

    at.switch_page("views/2_train.py").run()
    yield "train.idle", visible_texts(at)
    at.sidebar.file_uploader(key="train.upload").set_value(BAD_CONFIG).run()
    yield "train.bad_config", visible_texts(at)
    for name, value in (("batch_size", 16), ("width", 8)):
        at.sidebar.number_input(key=f"train.w.{name}").set_value(value).run()
    at.button(key="train.start").click().run()
    sess = at.session_state["train.session"]
    sess.score_every_s, sess.score_n = 0.0, 100  # a meter reading in the first ticks
    for _ in range(3):
        at.run()
    at.button(key="train.pause").click().run()
    yield "train.paused", visible_texts(at)

    at.switch_page("views/3_latent.py").run()
    at.text_input(key="latent.src.dcgan").set_value("nobody/not-there").run()
    yield "latent.fallback", visible_texts(at)

    at.switch_page("views/4_style.py").run()
    yield "style.adain", visible_texts(at)
    at.selectbox(key="style.pick_content").set_value("upload").run()
    at.file_uploader(key="style.upload_content").set_value(BAD_IMAGE).run()
    yield "style.bad_upload", visible_texts(at)


@pytest.mark.parametrize("lang", OTHER)
def test_no_english_on_any_page(root, lang, offline_hub, monkeypatch):
    monkeypatch.chdir(root)
    found = {}
    for name, texts in states(root, lang):
        assert texts, name
        for word, where in english_words(texts).items():
            found.setdefault(word, f"{name}: {where}")
    assert not found, f"English on the {lang} pages: {json.dumps(found, ensure_ascii=False, indent=1)}"


def test_the_scanner_finds_english_on_the_english_pages(root, offline_hub, monkeypatch):
    """It cannot pass by looking at nothing: the same walk in English finds many English words."""
    monkeypatch.chdir(root)
    seen = {}
    for name, texts in states(root, "en"):
        seen[name] = english_words(texts)
    assert all(len(words) >= 3 for words in seen.values()), {k: len(v) for k, v in seen.items()}
    everything = set().union(*seen.values())
    for word in ("Start", "learning", "discriminator", "Upload"):  # a button, a label, lesson text, a picker
        assert any(word.lower() == w.lower() for w in everything) or word.lower() in " ".join(everything).lower()

"""Languages: every English key has a Hebrew translation, RTL is flagged, and the Architectures page
runs in both languages through the real app entry point (AppTest)."""
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.i18n import LOCALES, is_rtl, languages, translate

ROOT = Path(__file__).resolve().parent.parent
EN = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
HE = json.loads((LOCALES / "he.json").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_english_key_is_translated_to_hebrew():
    missing = sorted(set(EN) - set(HE))
    assert not missing, f"keys missing in he.json: {missing}"
    untranslated = [k for k in EN if k.startswith("arch.") and HE[k] == EN[k] and re.search(r"[a-z]{4}", EN[k])]
    assert not untranslated, untranslated


def test_placeholders_survive_translation():
    for lang in languages():
        table = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
        for k, v in table.items():
            if k in EN and not k.startswith("_"):
                assert set(PLACEHOLDER.findall(v)) == set(PLACEHOLDER.findall(EN[k])), (lang, k)


def test_direction_flags():
    assert is_rtl("he") and not is_rtl("en")
    assert {"en", "he"} <= set(languages())
    assert translate("no.such.key", "he") == "no.such.key"  # a gap shows, never crashes


def test_every_arch_key_used_in_code_exists():
    code = "".join((ROOT / p).read_text() for p in ("pages/1_architectures.py", "ui/toy_widgets.py", "ui/arch_widgets.py"))
    used = set(re.findall(r"""t\(\s*["'](arch\.[\w.\-]+)["']""", code))
    from gan_core.toy2d import LOSSES, SHAPES
    used |= {f"arch.toy.shape.{s}" for s in SHAPES} | {f"arch.toy.loss.{s}" for s in LOSSES}
    from gan_core import registry
    used |= {spec.locale_key for spec in registry.SPECS.values()}
    used |= {f"arch.problems.{k}.{p}" for k in ("collapse", "hyper", "balance", "highres", "vae") for p in ("title", "body", "app")}
    assert used and not sorted(used - set(EN))


def _app(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["lang"] = lang
    return at.run()


@pytest.mark.parametrize("lang", ["en", "he"])
def test_architectures_page_in_each_language(lang):
    table = HE if lang == "he" else EN
    at = _app(lang)
    assert not at.exception
    assert at.title[0].value == table["arch.title"]
    assert any("direction: rtl" in m.value for m in at.markdown) == (lang == "he")  # the RTL stylesheet
    assert at.sidebar.selectbox[0].value == lang
    labels = [tab.label for tab in at.tabs]
    assert labels == [table[f"arch.tab.{k}"] for k in ("basics", "toy", "models", "problems")]
    for label in labels[1:]:  # the tabs are lazy: open each one
        at.session_state["arch.tab"] = label
        at.run()
        assert not at.exception, (label, [e.value for e in at.exception])
    text = " ".join(m.value for m in at.markdown)
    assert table["arch.problems.vae.body"][:40] in text


def test_toy_gan_buttons_in_hebrew():
    at = _app("he")
    at.session_state["arch.tab"] = HE["arch.tab.toy"]
    at.run()
    assert not at.exception
    at.button(key="toy.b.step").click().run()
    trainer = at.session_state["toy.trainer"]
    assert trainer.iteration == 10
    assert [m.label for m in at.metric][:2] == [HE["arch.toy.iteration"], HE["arch.toy.d_acc"]]
    at.button(key="toy.b.collapse").click().run()
    from gan_core.toy2d import MODE_COLLAPSE
    assert at.session_state["toy.trainer"].cfg == MODE_COLLAPSE and at.session_state["toy.playing"]
    assert not at.exception


def test_design_picker_shows_real_tables():
    at = _app("en")
    at.session_state["arch.tab"] = EN["arch.tab.models"]
    at.run()
    for key in ("mlp", "face-exercise", "wgan", "cdcgan"):
        at.radio(key="arch.design").set_value(key).run()
        assert not at.exception
        captions = " ".join(c.value for c in at.caption)
        assert captions.count("parameters") == 2


def test_language_from_the_url():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "he"
    at.run()
    assert at.session_state["lang"] == "he" and at.title[0].value == HE["arch.title"]

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


@pytest.mark.parametrize("lang", [lang for lang in languages() if lang != "en"])
def test_every_locale_has_exactly_the_english_keys_translated(lang):
    from ui.locale_check import report
    r = report(lang)  # English here = en.json plus gan_core's messages (msg.*)
    assert r["missing"] == [] and r["extra"] == [] and r["placeholders"] == [], (lang, r)
    allowed = {"latent.using", "msg.device.cuda", "msg.device.mps"}  # placeholders or product names only
    assert set(r["untranslated"]) <= allowed, r["untranslated"]


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


def test_translating_does_not_list_the_locale_folder_each_time(monkeypatch):
    """Every t() of every page asks whether its language exists: listing the folder each time was 14% of a
    2-core server's busy time during a class. Listed once, the answers stay the same."""
    key = next(k for k in HE if k in EN and not k.startswith("_") and HE[k] != EN[k])
    translate(key, "he")

    def listing(*args, **kwargs):
        raise AssertionError("the locale folder was listed again")
    monkeypatch.setattr(type(LOCALES), "glob", listing)
    assert translate(key, "he") == HE[key]
    assert translate(key, "xx") == EN[key]  # not a language: English
    assert "he" in languages() and is_rtl("he")


def test_every_arch_key_used_in_code_exists():
    code = "".join((ROOT / p).read_text() for p in ("views/1_architectures.py", "ui/toy_widgets.py", "ui/arch_widgets.py"))
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
        code = [c.value for c in at.code]
        if key == "cdcgan":  # G's source, then what it runs beside it: its norm per digit
            assert any(c.startswith("class DCGANGenerator28") for c in code)
            assert any("class ClassBatchNorm" in c and "def run_layers" in c for c in code)
            assert captions.count(EN["arch.code_helpers"]) == 2  # G's helpers, D's (score_layers, ...)
        if key == "mlp":  # nothing of gan_core's inside D: no helpers block for it
            assert captions.count(EN["arch.code_helpers"]) == 1  # G's GeneratorBase
    at.radio(key="arch.design").set_value("progressive").run()  # its text quotes the preset's R1, not a literal
    from gan_core.config import TrainConfig
    preset = TrainConfig.preset("progressive")
    text = " ".join(m.value for m in at.markdown)
    assert preset.r1 > 0 and f"γ = {preset.r1:g}, in a D step of its own every {preset.r1_every} steps" in text


def test_language_from_the_url():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "he"
    at.run()
    assert at.session_state["lang"] == "he" and at.title[0].value == HE["arch.title"]


def test_the_browser_language_picks_the_first_language_unless_the_link_says_otherwise():
    from ui.i18n import pick_language
    assert pick_language(None, "he-IL") == "he"
    assert pick_language(None, "fr-FR") == "en" and pick_language(None, None) == "en"
    assert pick_language("en", "he-IL") == "en"  # ?lang= wins over the browser
    assert pick_language("xx", "he_IL") == "he"  # an unknown ?lang= is ignored
    for lang in languages():
        assert pick_language(None, f"{lang}-XX") == lang


def test_translator_check_reports_what_a_translator_must_fix(tmp_path, monkeypatch, capsys):
    from ui import i18n, locale_check
    for lang in languages():
        assert locale_check.report(lang)["missing"] == [] and locale_check.report(lang)["placeholders"] == [], lang
    # a broken copy of Hebrew: one key gone, one extra, one English value, one placeholder renamed
    he = json.loads((LOCALES / "he.json").read_text(encoding="utf-8"))
    del he["train.start"]
    he["train.no_such_key"] = "x"
    he["train.pause"] = EN["train.pause"]
    he["train.grid_caption"] = he["train.grid_caption"].replace("{step}", "{steps}")
    folder = tmp_path / "locales"
    folder.mkdir()
    (folder / "en.json").write_text((LOCALES / "en.json").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "xx.json").write_text(json.dumps(he, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(locale_check, "LOCALES", folder)
    monkeypatch.setattr(i18n, "LOCALES", folder)
    i18n._table.cache_clear()
    try:
        r = locale_check.report("xx")
        assert r["missing"] == ["train.start"] and r["extra"] == ["train.no_such_key"]
        assert "train.pause" in r["untranslated"] and r["placeholders"] == ["train.grid_caption"]
        assert locale_check.main(["xx"]) == 1
        assert "missing: train.start" in capsys.readouterr().out
    finally:
        i18n._table.cache_clear()

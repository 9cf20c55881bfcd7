"""AppTest of the latent-space page: it draws both models, A/B buttons set the endpoints, the tabs
render, sliders redraw, and an unknown repo falls back to the bundled weights with a warning."""
import pytest
from huggingface_hub import constants
from streamlit.testing.v1 import AppTest

PAGE = "views/3_latent.py"


@pytest.fixture
def page(root, monkeypatch, tmp_path):
    monkeypatch.chdir(root)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("GAN_FACE_DCGAN_REPO", raising=False)
    monkeypatch.delenv("GAN_FACE_WGAN_REPO", raising=False)
    at = AppTest.from_file(str(root / PAGE), default_timeout=120).run()
    assert not at.exception, at.exception[0].message
    return at


def test_page_draws_grid_and_both_strips(page):
    at = page
    assert not at.warning and not at.error
    assert len([b for b in at.button if b.key.startswith("latent.pick_a.")]) == 16
    # 16 grid thumbnails + one strip per model + the side-by-side GIF
    assert len(at.image) >= 16 + 2 + 1
    assert at.number_input(key="latent.seed_a").value == 0


def test_ab_buttons_steps_mode_and_tabs(page):
    at = page
    at.button(key="latent.pick_a.5").click().run()
    at.button(key="latent.pick_b.9").click().run()
    assert (at.number_input(key="latent.seed_a").value, at.number_input(key="latent.seed_b").value) == (5, 9)
    at.slider(key="latent.steps").set_value(6).run()
    at.radio(key="latent.mode").set_value("lerp").run()
    at.slider(key="latent.psi").set_value(0.5).run()
    assert not at.exception
    assert len(at.tabs) == 3
    at.session_state["latent.tab"] = at.tabs[1].label
    at.run()
    assert not at.exception and at.slider(key="latent.walk_legs").value == 4
    at.session_state["latent.tab"] = at.tabs[2].label
    at.run()
    assert not at.exception and at.multiselect(key="latent.mean.0").value == [0, 1, 2]


def test_unknown_repo_falls_back_with_a_warning(page):
    at = page
    at.text_input(key="latent.src.dcgan").input("nobody/not-there").run()
    assert not at.exception
    assert any("bundled" in w.value and "nobody/not-there" in w.value for w in at.warning)
    assert len(at.image) >= 16 + 2 + 1  # still draws, with the bundled weights


def test_fallback_reason_is_in_the_page_language(page):
    """The loader's reason is a gan_core message: a Hebrew page shows it in Hebrew, not in English."""
    from ui.i18n import translate
    at = page
    at.session_state["lang"] = "he"
    at.text_input(key="latent.src.dcgan").input("nobody/not-there").run()
    assert not at.exception
    reason = translate("msg.hub.offline", "he").split("{")[0].strip()
    warnings = [w.value for w in at.warning]
    assert any(reason in w and "nobody/not-there" in w for w in warnings), warnings
    assert not any("could not fetch" in w for w in warnings)
    # what was typed, and the variable to set, keep their own direction inside the Hebrew (U+2068 ... U+2069)
    assert any("\u2068nobody/not-there\u2069" in w for w in warnings), warnings
    assert "\u2068$GAN_FACE_DCGAN_REPO\u2069" in at.text_input(key="latent.src.dcgan").placeholder
    at.session_state["lang"] = "en"
    at.run()
    assert at.text_input(key="latent.src.dcgan").placeholder == "empty = bundled (or set $GAN_FACE_DCGAN_REPO)"


# ---------------------------------------------------------------- the pictures follow the controls
# st.image stores its bytes under a hash of their content, so equal URLs mean equal pictures.

def strips(at) -> list[str]:
    """The URL of each model's strip (the uncaptioned images: the interpolation or the walk)."""
    out = [img.value[0] for img in at.image if img.captions == [""]]
    assert len(out) == 2, [img.captions for img in at.image]
    return out


def changed(before: list[str], after: list[str]) -> bool:
    """Every model's picture changed (both models draw the same path)."""
    return all(a != b for a, b in zip(before, after, strict=True))


def test_interpolation_strips_follow_every_control_and_only_them(page):
    at = page
    first = strips(at)
    at.run()
    assert strips(at) == first, "a rerun with nothing changed draws the same strips"
    moves = [(lambda: at.slider(key="latent.steps").set_value(6), "steps"),
             (lambda: at.radio(key="latent.mode").set_value("lerp"), "lerp/slerp"),
             (lambda: at.slider(key="latent.psi").set_value(0.5), "truncation"),
             (lambda: at.number_input(key="latent.seed_a").set_value(5), "seed A"),
             (lambda: at.number_input(key="latent.seed_b").set_value(9), "seed B")]
    seen = [first]
    for move, what in moves:
        before = strips(at)
        move().run()
        assert not at.exception
        assert changed(before, strips(at)), f"the strips ignore {what}"
        seen.append(strips(at))
    assert len({tuple(s) for s in seen}) == len(seen)
    # back to the first settings: the first pictures again
    at.slider(key="latent.steps").set_value(16)
    at.radio(key="latent.mode").set_value("slerp")
    at.slider(key="latent.psi").set_value(1.0)
    at.number_input(key="latent.seed_a").set_value(0)
    at.number_input(key="latent.seed_b").set_value(1).run()
    assert strips(at) == first


def test_walk_strips_follow_the_walk_seed(page):
    at = page
    at.session_state["latent.tab"] = at.tabs[1].label
    at.run()
    first = strips(at)
    at.run()
    assert strips(at) == first
    at.number_input(key="latent.walk_seed").set_value(8).run()
    assert changed(first, strips(at)), "the walk ignores its seed"
    at.slider(key="latent.walk_legs").set_value(3).run()
    assert not at.exception and len(set(strips(at)) & set(first)) == 0


def test_arithmetic_result_follows_its_seeds(page):
    at = page
    at.session_state["latent.tab"] = at.tabs[2].label
    at.run()
    math_rows = lambda: [img.value for img in at.image if img.captions == ["A", "B", "C", "A − B + C"]]
    first = math_rows()
    assert len(first) == 2 and all(len(r) == 4 for r in first)
    at.run()
    assert math_rows() == first
    for key in ("latent.arith_a", "latent.arith_b", "latent.arith_c"):
        before = math_rows()
        at.number_input(key=key).set_value(at.number_input(key=key).value + 100).run()
        after = math_rows()
        slot = "abc".index(key[-1])
        for row_before, row_after in zip(before, after):
            assert row_after[slot] != row_before[slot], f"{key}: its picture did not change"
            assert row_after[3] != row_before[3], f"{key}: A − B + C ignores it"
            assert [u for i, u in enumerate(row_after[:3]) if i != slot] == \
                [u for i, u in enumerate(row_before[:3]) if i != slot], f"{key} moved another seed's picture"


def test_a_config_json_the_network_refuses_is_explained_in_the_page_language(page, tmp_path):
    """A folder whose config.json asks a face DCGAN with an empty layer, or with a setting it does not take: the
    Ukrainian page says why in Ukrainian, the network's reason included, and falls back to the bundled weights."""
    from gan_core.hub import save_model
    from gan_core.models import DCGANGenerator64
    from gan_devkit.model_folder import with_config
    from ui.i18n import translate
    at = page
    at.session_state["lang"] = "uk"
    for name, changes, words in (("empty", {"width": 0}, ("не відповідає", translate("msg.model.empty_layer", "uk"))),
                                 ("odd", {"colour": "blue"}, ("не приймає: colour",))):
        folder = with_config(save_model(DCGANGenerator64(width=4), tmp_path / name), **changes)
        at.text_input(key="latent.src.dcgan").input(str(folder)).run()
        assert not at.exception
        warnings = [w.value for w in at.warning]
        assert any(all(word in w for word in words) and str(folder) in w for w in warnings), warnings
        assert not any("does not" in w or "a layer with no weights" in w for w in warnings), warnings
        assert len(at.image) >= 16 + 2 + 1  # still draws, with the bundled weights

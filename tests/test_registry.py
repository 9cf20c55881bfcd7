"""The model registry is the single source of every list of models: the CLI's choices, the training
page's options, the Architectures page's designs and the locale files all come from it."""
import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_core import registry
from gan_core.cli import build_parser
from gan_core.config import BOUNDS, TrainConfig
from gan_core.messages import GanError
from ui.i18n import LOCALES
from ui.train_session import PAGE_MODELS


def _choices(parser, command, flag):
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return tuple(next(a for a in sub._actions if flag in a.option_strings).choices)


def test_front_ends_list_exactly_what_the_registry_offers():
    assert _choices(build_parser(), "train", "--model") == registry.offered("cli")
    assert set(registry.offered("cli")) == set(registry.MODELS)  # the CLI trains every model
    assert PAGE_MODELS == registry.offered("train", data="digits") and PAGE_MODELS[0] == registry.DEFAULT_MODEL
    assert "face-exercise" not in PAGE_MODELS  # an image model: not on the MNIST page


def test_adding_a_variant_is_one_spec(monkeypatch):
    """A new spec appears in the CLI, the page and the designs with no other list edited."""
    spec = registry.ModelSpec("dcgan-wide", "dcgan", "bce", preset=dict(width=48, batch_size=32), sizes={28: 1})
    monkeypatch.setitem(registry.SPECS, spec.name, spec)
    monkeypatch.setattr(registry, "MODELS", tuple(registry.SPECS))
    assert "dcgan-wide" in _choices(build_parser(), "train", "--model")
    assert "dcgan-wide" in registry.offered("train", data="digits") and "dcgan-wide" in registry.offered("arch")
    cfg = TrainConfig.preset("dcgan-wide")
    g, d = spec.build(cfg)
    assert g.width == 48 and cfg.batch_size == 32 and cfg.loss == "bce"


@pytest.mark.parametrize("lang", ["en", "he"])
def test_every_model_has_a_name_in_every_locale(lang):
    table = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    assert {s.locale_key for s in registry.SPECS.values()} <= set(table)


def test_presets_are_valid_configs_and_sizes_build():
    for name, spec in registry.SPECS.items():
        cfg = TrainConfig.preset(name)
        assert cfg.num_classes > 0 if spec.conditional else cfg.num_classes == 0
        for size, channels in spec.sizes.items():
            g, _ = spec.build(cfg, img_size=size)
            assert (g.img_size, g.channels) == (size, channels), (name, size)


def test_pages_draw_their_lists_from_the_registry():
    en = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.session_state["arch.tab"] = en["arch.tab.models"]
    at.run()
    assert not at.exception
    names = [en[registry.get(m).locale_key] for m in registry.offered("arch")]
    assert list(at.radio(key="arch.design").options) == names
    at.switch_page("views/2_train.py").run()
    assert not at.exception
    assert list(at.sidebar.selectbox(key="train.w.model").options) == [en[registry.get(m).locale_key] for m in PAGE_MODELS]


@pytest.mark.parametrize("name", [n for n in registry.MODELS if n not in ("cdcgan", "dcgan")])  # cdcgan = dcgan + labels
def test_only_the_28px_dcgan_takes_labels(name):
    """num_classes asks for a conditional G: a model whose networks take no labels refuses it instead
    of training an unconditional pair that crashes when fed labels (or silently ignores them)."""
    spec = registry.get(name)
    cfg = TrainConfig.preset(name, num_classes=10)
    with pytest.raises(GanError) as e:
        spec.build(cfg)
    assert e.value.code == "train.conditional_28_only"
    assert registry.get("cdcgan").build(TrainConfig.preset("cdcgan"))[0].num_classes == 10


def test_a_norm_per_digit_needs_the_digits():
    """g_class_norm: the conditional preset's G scales and shift each batch norm per digit; asked of a model
    without labels it is refused in words, not dropped silently."""
    from gan_core.models import ClassBatchNorm
    g, _ = registry.get("cdcgan").build(TrainConfig.preset("cdcgan"))
    norms = [m for m in g.modules() if isinstance(m, ClassBatchNorm)]
    assert len(norms) == 3 and all(m.weight.shape[0] == 10 for m in norms)
    plain, _ = registry.get("cdcgan").build(TrainConfig.preset("cdcgan", g_class_norm=False))
    assert not any(isinstance(m, ClassBatchNorm) for m in plain.modules())
    for name in ("dcgan", "mlp"):
        with pytest.raises(GanError) as e:
            registry.get(name).build(TrainConfig.preset(name, g_class_norm=True))
        assert e.value.code == "train.class_norm_needs_classes"
    assert registry.get("cdcgan").build(TrainConfig.preset("cdcgan", d_twin=True))[1].twin.out_features == 10
    assert registry.get("cdcgan").build(TrainConfig.preset("cdcgan", d_twin=False))[1].twin is None
    for name in ("dcgan", "mlp"):
        with pytest.raises(GanError) as e:
            registry.get(name).build(TrainConfig.preset(name, d_twin=True))
        assert e.value.code == "train.twin_needs_classes"


def test_g_and_d_hidden_reach_the_small_dcgan_only():
    """The config's g_hidden / d_hidden are the 28/32 px DCGAN's dense layers, each in its own network;
    the 64 px DCGAN has none (it builds as before)."""
    spec = registry.get("dcgan")
    cfg = TrainConfig.preset("dcgan", width=8, g_hidden=32, d_hidden=24)
    for size in (28, 32):
        g, d = spec.build(cfg, img_size=size)
        assert g.project[0].out_features == 32 and g._hub_mixin_config["hidden"] == 32
        assert d._hub_mixin_config["hidden"] == 24 and d.main[-1].in_features == 24
    g, d = spec.build(TrainConfig.preset("dcgan", width=8, g_hidden=0, d_hidden=0))
    assert g.project[0].out_features == 2 * 8 * 7 * 7 and d.main[-1].in_features == 2 * 8 * 7 * 7
    assert spec.build(cfg, img_size=64)[0].img_size == 64


def test_g_layers_stack_g_hidden_units_between_the_noise_and_gs_projection():
    """g_layers dense layers of g_hidden units, each fed by the one before (not by the noise again), and
    each with its norm and ReLU; with g_hidden 0 there are none, whatever g_layers says."""
    spec = registry.get("wgan-gp")
    g, _ = spec.build(TrainConfig.preset("wgan-gp", width=8, z_dim=10, g_hidden=32, g_layers=3))
    linears = [m for m in g.project if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 32), (32, 32), (32, 32), (32, 2 * 8 * 7 * 7)]
    assert [type(m).__name__ for m in g.project[3:6]] == ["Linear", "BatchNorm1d", "ReLU"]
    assert g._hub_mixin_config["hidden_layers"] == 3
    assert g(torch.randn(4, 10)).shape == (4, 1, 28, 28)
    one, _ = spec.build(TrainConfig.preset("wgan-gp", width=8, z_dim=10, g_hidden=32, g_layers=1))
    assert len(one.project) == len(g.project) - 6
    none, _ = spec.build(TrainConfig.preset("wgan-gp", width=8, z_dim=10, g_hidden=0, g_layers=3))
    assert [m.in_features for m in none.project if isinstance(m, torch.nn.Linear)] == [10]
    with pytest.raises(GanError) as e:
        TrainConfig.preset("wgan-gp", g_layers=5)
    assert e.value.code == "config.out_of_range" and e.value.params["key"] == "g_layers"
    assert BOUNDS["g_layers"][1] == type(g).MAX_HIDDEN_LAYERS  # the config's bound is the model's own
    assert build_parser().parse_args(["train", "--model", "wgan-gp", "--out", "x", "--g-layers", "2"]).g_layers == 2


def test_the_progressive_d_takes_d_hidden_as_progans_d_ends_and_g_takes_none():
    spec = registry.get("progressive")
    g, d = spec.build(TrainConfig.preset("progressive", width=8, g_hidden=32, d_hidden=24))
    assert d._hub_mixin_config["hidden"] == 24 and d.head[-1].in_features == 24 and d.head[-3].out_features == 24
    assert g.project[0].out_features == 2 * 8 * 7 * 7  # G's first layer is its projection still
    assert spec.build(TrainConfig.preset("progressive", width=8, d_hidden=0))[1].head[-1].in_features == 2 * 8 * 7 * 7
    x = torch.rand(3, 1, 28, 28)
    for resolution in (7, 14, 28):  # at every phase of its growth the dense layer judges the 7x7 maps
        d.set_resolution(resolution, 0.5 if resolution > 7 else 1.0)
        assert d(x).shape == (3,)


def test_d_norm_picks_the_dcgan_critics_norm_and_is_refused_elsewhere():
    """d_norm: "auto" keeps batch norm in D and none in a WGAN-GP critic (its penalty is per sample); a run
    config may ask for another at either size; a model whose D has no such choice refuses it in words."""
    def norms(name, img_size=None, **over):
        _, d = registry.get(name).build(TrainConfig.preset(name, **over), img_size=img_size)
        return {type(m).__name__ for m in d.modules() if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm))}
    assert norms("dcgan") == {"BatchNorm2d"} and norms("wgan-gp") == set()
    assert norms("wgan") == {"BatchNorm2d"} and norms("wgan", d_norm="auto") == set()  # the preset asks for it
    assert norms("dcgan", d_norm="none") == set() and norms("wgan-gp", d_norm="layer") == {"GroupNorm"}
    assert norms("wgan", 64, d_norm="layer") == {"GroupNorm"} and norms("wgan", 64, d_norm="none") == set()
    for name in ("mlp", "progressive", "slides"):
        registry.get(name).build(TrainConfig.preset(name, d_norm="auto"))
        with pytest.raises(GanError) as e:
            registry.get(name).build(TrainConfig.preset(name, d_norm="batch"))
        assert e.value.code == "train.d_norm_dcgan_only" and e.value.params["model"] == name
    with pytest.raises(Exception) as e:
        TrainConfig.preset("wgan", d_norm="group")
    assert e.value.code == "config.bad_choice"


def _dropouts(net) -> set:
    return {m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)}


def test_each_builder_hands_the_config_to_both_networks():
    """What a run asks reaches the networks built for it: noise size, width, channels and dropout, in every family
    (the 64 px DCGAN of the faces, the FNN, the face exercise with G's lighter dropout, progressive and the VAE in
    colour, as `--channels 3` asks)."""
    cfg = TrainConfig.preset("dcgan", z_dim=17, width=8)
    G, D = registry.get("dcgan").build(cfg, channels=1, img_size=64)
    assert (G.z_dim, G.channels, G.img_size) == (17, 1, 64) and G(torch.randn(2, 17)).shape == (2, 1, 64, 64)
    assert (D.main[0].in_channels, D.main[0].out_channels) == (1, 8) and D.main[0].out_channels == G.main[-2].in_channels
    cfg = TrainConfig.preset("mlp", dropout=0.25)
    G, D = registry.get("mlp").build(cfg)
    assert _dropouts(G) == _dropouts(D) == {0.25}
    cfg = TrainConfig.preset("face-exercise", dropout=0.3)
    G, D = registry.get("face-exercise").build(cfg)
    assert _dropouts(G) == {0.3 / 3} and _dropouts(D) == {0.3}
    for name in ("progressive", "vae"):
        cfg = TrainConfig.preset(name)
        G, D = registry.get(name).build(cfg, channels=3)
        picture = G(torch.randn(2, cfg.z_dim))
        assert picture.shape == (2, 3, 28, 28), name
        assert D(picture).shape[0] == 2, name  # the critic, or the VAE's encoder, reads colour too


def test_a_size_the_model_does_not_offer_is_refused_naming_the_model_and_sizes():
    with pytest.raises(GanError) as e:
        registry.get("dcgan").build(TrainConfig.preset("dcgan"), img_size=48)
    assert e.value.code == "train.bad_img_size" and e.value.params == {"model": "dcgan", "size": 48,
                                                                       "sizes": "28 or 32 or 64"}


def test_an_unknown_model_is_refused_with_every_name_it_could_be():
    with pytest.raises(GanError) as e:
        registry.get("stylegan")
    assert e.value.code == "config.unknown_model"
    assert e.value.params == {"model": "stylegan", "models": ", ".join(registry.MODELS)}
    assert registry.get(registry.DEFAULT_MODEL).name == "cdcgan"

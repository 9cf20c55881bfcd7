"""The `slides` model is the deck's FNN GAN line for line: its modules, its loss, its loop."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import losses, registry
from gan_core.architecture import layer_table
from gan_core.config import ConfigError, TrainConfig, check
from gan_core.hub import load_model
from gan_core.models import MLPGenerator, SlidesDiscriminator, SlidesGenerator
from gan_core.training import Trainer
from gan_devkit.cli_run import cli


def test_the_module_structure_is_the_decks():
    G, D = registry.get("slides").build(TrainConfig.preset("slides"))
    assert isinstance(G, SlidesGenerator) and isinstance(D, SlidesDiscriminator)
    assert [(m.in_features, m.out_features) for m in (G.fc1, G.fc2, G.out)] == [(64, 256), (256, 256), (256, 784)]
    assert [(m.in_features, m.out_features) for m in (D.fc1, D.fc2, D.out)] == [(784, 256), (256, 256), (256, 1)]
    for net in (G, D):
        assert isinstance(net.leaky_relu, nn.LeakyReLU) and net.leaky_relu.negative_slope == 0.01
        assert not any(isinstance(m, (nn.ReLU, nn.Dropout, nn.BatchNorm1d)) for m in net.modules())
    # the order the layers really run in (a forward pass with hooks), activations included
    assert [r.kind for r in layer_table(G)] == ["Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear", "Tanh"]
    assert [r.kind for r in layer_table(D)] == ["Flatten", "Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear", "Sigmoid"]
    x = G(torch.randn(5, 64) * 10)
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    p = D(x)
    assert p.shape == (5,) and ((p > 0) & (p < 1)).all(), "D returns probabilities, as the deck's sigmoid"


def test_mlp_no_longer_claims_to_be_the_slides():
    doc = MLPGenerator.__doc__
    assert "exactly as the slides" not in doc and "tuned" in doc and "leaky_relu" in doc


def test_preset_is_the_decks_loop():
    cfg = TrainConfig.preset("slides")
    spec = registry.get("slides")
    assert spec.loss == "bce-sigmoid" and not spec.wgan and not spec.conditional
    assert (cfg.optimizer, cfg.batching, cfg.ema, cfg.bf16) == ("adam", "epochs", 0.0, False)
    assert (cfg.beta1, cfg.beta2, cfg.z_dim, cfg.width) == (0.9, 0.999, 64, 256)  # torch.optim.Adam's defaults
    assert 60_000 % cfg.batch_size == 0  # the deck's label tensors are batch_size long: every batch is full
    fam = losses.BCE_FAMILIES[spec.loss]
    assert fam.fresh_noise and fam.real_above == 0.5


def _fixed_batch(t: Trainer, x: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor):
    t._batch = lambda: (x, None)
    zs = iter([z_d, z_g])
    t._z = lambda: next(zs)


def test_trainer_loss_is_bceloss_averaged_on_a_fixed_batch():
    data = torch.rand(40, 1, 28, 28) * 2 - 1
    t = Trainer(TrainConfig.preset("slides", batch_size=8, snapshot_every=1000), data, device="cpu")
    G0, D0 = SlidesGenerator(), SlidesDiscriminator()
    G0.load_state_dict(t.G.state_dict())
    D0.load_state_dict(t.D.state_dict())
    x, z_d, z_g = data[:8], torch.randn(8, 64), torch.randn(8, 64)
    _fixed_batch(t, x, z_d, z_g)
    m = t.step(1)[0]
    bce = nn.BCELoss()
    with torch.no_grad():
        d_loss = (bce(D0(x), torch.ones(8)) + bce(D0(G0(z_d)), torch.zeros(8))) / 2
        assert losses.slides_d_loss(D0(x), D0(G0(z_d))).item() == pytest.approx(d_loss.item(), abs=1e-6)
    assert m["d_loss"] == pytest.approx(d_loss.item(), abs=1e-6)
    # G's turn: fresh noise z_g through the D that just stepped, target 1
    with torch.no_grad():
        D1 = SlidesDiscriminator()
        D1.load_state_dict(t.D.state_dict())
        g_loss = bce(D1(G0(z_g)), torch.ones(8))
    assert m["g_loss"] == pytest.approx(g_loss.item(), abs=1e-6)


def test_epoch_batching_visits_every_example_once_per_epoch():
    n, b = 55, 10  # not a multiple: the batch that ends an epoch tops up from the next one
    data = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 28, 28).contiguous()

    def order(seed):
        t = Trainer(TrainConfig.preset("slides", batch_size=b, seed=seed), data, device="cpu")
        return torch.cat([t._batch()[0][:, 0, 0, 0] for _ in range(3 * n // b)]).long()  # 16 batches, 160 draws

    seen = order(0)
    for e in range(2):
        assert sorted(seen[e * n:(e + 1) * n].tolist()) == list(range(n)), f"epoch {e}"
    assert not torch.equal(seen[:n], seen[n:2 * n]), "a new shuffle each epoch"
    assert not torch.equal(seen[:n], torch.arange(n)), "shuffled"
    assert torch.equal(seen, order(0)) and not torch.equal(seen, order(1)), "seeded"
    random = Trainer(TrainConfig.preset("mlp", batch_size=b), data, device="cpu")
    draws = torch.cat([random._batch()[0][:, 0, 0, 0] for _ in range(n // b)]).long()
    assert len(set(draws.tolist())) < len(draws), "mlp keeps random batches (with replacement)"


def test_resume_continues_the_epoch_and_the_run_identically(tmp_path):
    data = torch.rand(60, 1, 28, 28) * 2 - 1
    cfg = TrainConfig.preset("slides", batch_size=8, width=32, snapshot_every=1000)
    a = Trainer(cfg, data, device="cpu")
    a.step(3)
    a.save(tmp_path / "run")
    b = Trainer.resume(tmp_path / "run", data, device="cpu")
    assert torch.equal(b._epochs[0], a._epochs[0]) and len(a._epochs[0]) == 60 - 24
    assert json.dumps(a.step(12)) == json.dumps(b.step(12)[-12:])  # across an epoch boundary (step 8)


def test_sgd_option_and_word_settings_are_checked():
    data = torch.rand(16, 1, 28, 28)
    t = Trainer(TrainConfig.preset("slides", optimizer="sgd", batch_size=4), data, device="cpu")
    assert type(t.opt_g) is torch.optim.SGD and type(t.opt_d) is torch.optim.SGD
    assert t.opt_g.defaults["momentum"] == 0 and t.opt_g.defaults["lr"] == 2e-4
    assert type(Trainer(TrainConfig.preset("slides", batch_size=4), data, device="cpu").opt_g) is torch.optim.Adam
    t.step(2)
    for bad in (dict(optimizer="rmsprop"), dict(batching="sequential")):
        with pytest.raises(ConfigError) as e:
            TrainConfig.preset("slides", **bad)
        assert e.value.code == "config.bad_choice"
    with pytest.raises(ConfigError):
        TrainConfig.from_json('{"model": "slides", "optimizer": "Adam"}')
    assert check("optimizer", "sgd") == "sgd"
    with pytest.raises(ConfigError):
        check("batching", "shuffle")




def test_cli_trains_saves_loads_and_samples_slides(root, tmp_path):
    out = tmp_path / "slides"
    r = cli("train", "--model", "slides", "--steps", 20, "--batch-size", 20, "--seed", 1, "--no-score",
            "--out", out, cwd=root)
    assert json.loads(r.stdout.strip().splitlines()[-1])["steps"] == 20
    assert json.loads((out / "config.json").read_text())["architecture"] == "SlidesGenerator"
    assert isinstance(load_model(out), SlidesGenerator)
    assert isinstance(load_model(out / "discriminator"), SlidesDiscriminator)
    state = torch.load(out / "trainer_state.pt", weights_only=True)
    assert state["config"]["batching"] == "epochs" and state["config"]["optimizer"] == "adam"
    cli("sample", out, "--n", 6, "--seed", 2, "--out", tmp_path / "s.npy", cwd=root)
    a = np.load(tmp_path / "s.npy")
    assert a.shape == (6, 28, 28) and a.dtype == np.uint8
    r = cli("sample", out, "--digit", 7, "--out", tmp_path / "seven.png", cwd=root, check=False)
    assert r.returncode != 0 and "not conditional" in r.stderr and "Traceback" not in r.stderr


def test_cli_optimizer_and_batching_flags(root, tmp_path):
    out = tmp_path / "sgd"
    cli("train", "--model", "slides", "--steps", 3, "--batch-size", 10, "--optimizer", "sgd", "--batching", "random",
        "--no-score", "--out", out, cwd=root)
    cfg = torch.load(out / "trainer_state.pt", weights_only=True)["config"]
    assert (cfg["optimizer"], cfg["batching"]) == ("sgd", "random")
    r = cli("train", "--model", "slides", "--steps", 3, "--optimizer", "rmsprop", "--out", out, cwd=root, check=False)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_the_slides_ladder_and_its_page_text_name_the_tuned_fnns_optimizer_ema_and_batch(monkeypatch):
    """The Architectures page's ladder (slides -> mlp) quotes bench/bench_slides.py: its lr rung trains with the
    mlp preset's learning rates and betas, its EMA rung with the preset's decay, and the page names them from the
    registry, so a preset change cannot leave the page naming the old ones (it said "EMA 0.99" after a preset of
    0.998 was measured better, and "beta1 0.5" would have outlived the betas (0, 0.99))."""
    from streamlit.testing.v1 import AppTest

    from gan_devkit.bench_scripts import load
    from ui.i18n import LOCALES
    bench = load("bench_slides")
    mlp = registry.get("mlp").preset
    model, overrides = bench.LADDER["slides+lr+ema"]
    assert model == "slides" and overrides["ema"] == mlp["ema"]
    assert {k: v for k, v in overrides.items() if k != "ema"} == bench.LADDER["slides+lr"][1]
    assert bench.LADDER["slides+lr"][1] == {k: mlp[k] for k in ("lr_g", "lr_d", "beta1", "beta2")}

    # a preset no text was written for: the page must follow it (a hand-copied figure would not)
    for key, value in dict(lr_g=7e-3, lr_d=6e-4, beta1=0.25, beta2=0.95, ema=0.997, batch_size=123).items():
        monkeypatch.setitem(mlp, key, value)
    en = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.session_state["arch.tab"] = en["arch.tab.models"]
    at.session_state["arch.design"] = "slides"
    at.run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "(EMA 0.997)" in text and "random batches of 123;" in text
    assert "learning rates 0.007 for G and 0.0006 for D, `betas=(0.25, 0.95)`:" in text

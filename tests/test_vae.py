"""The VAE (not a GAN) trains on the ELBO, saves and loads like every generator, and races a GAN on the page."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from gan_core import registry, versus
from gan_core.config import TrainConfig
from gan_core.data import mnist_tensor
from gan_core.metrics import sharpness
from gan_core.pipelines import load_generator
from gan_core.training import Trainer, as_trained
from gan_core.vae import VAEDecoder, VAEEncoder, elbo_terms
from gan_devkit.cli_run import cli
from ui.train_session import TrainSession


@pytest.fixture(scope="module")
def digits():
    return mnist_tensor("train")[:512]


class Fixed(torch.nn.Module):
    """An 'encoder' that returns the given (mu, logvar) whatever the image."""
    def __init__(self, mu, logvar):
        super().__init__()
        self.out = torch.cat([mu, logvar], 1)

    def forward(self, x):
        return self.out


def test_kl_term_is_zero_at_the_prior_and_positive_elsewhere():
    dec, x, eps = VAEDecoder(z_dim=4, width=8), torch.rand(3, 1, 28, 28) * 2 - 1, torch.randn(3, 4)
    _, kl = elbo_terms(Fixed(torch.zeros(3, 4), torch.zeros(3, 4)), dec, x, eps)
    assert kl.item() == pytest.approx(0.0, abs=1e-6)
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    _, kl = elbo_terms(Fixed(mu, logvar), dec, x, eps)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    expected = torch.distributions.kl_divergence(q, p).sum() / 3
    assert kl.item() > 0 and kl.item() == pytest.approx(expected.item(), rel=1e-5)


def test_reconstruction_is_bce_of_the_decoder_on_the_reparameterised_code():
    dec, x = VAEDecoder(z_dim=4, width=8), torch.rand(2, 1, 28, 28) * 2 - 1
    mu, logvar, eps = torch.randn(2, 4), torch.randn(2, 4), torch.randn(2, 4)
    rec, _ = elbo_terms(Fixed(mu, logvar), dec, x, eps)
    z = mu + (0.5 * logvar).exp() * eps
    probs = (dec(z) + 1) / 2  # forward() is 2 * sigmoid(logits) - 1
    assert torch.allclose(probs, dec(z, logits=True).sigmoid(), atol=1e-6)
    assert rec.item() == pytest.approx(F.binary_cross_entropy(probs, (x + 1) / 2, reduction="sum").item() / 2, rel=1e-4)


def _layers(model):
    """The model's layers in order, as printed, less a GAN's batch norm, dropout and no-norm placeholder, and bias flags."""
    skip = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.Dropout, torch.nn.Identity, torch.nn.Sequential)
    return [repr(m).replace(", bias=False", "").replace(", bias=True", "") for m in model.modules() if m is not model and not isinstance(m, skip)]


def test_the_vae_draws_and_judges_with_the_dcgan_networks_less_their_norms():
    """The race differs in the objective, not in the network: the decoder is the DCGAN generator's layers
    (7 -> 14 -> 28, ReLU, tanh), the encoder the DCGAN discriminator's (LeakyReLU 0.2), only the last layer's
    width differs (mu and log-variance, not one score)."""
    from gan_core.models import DCGANDiscriminator28, DCGANGenerator28
    assert _layers(VAEDecoder(z_dim=16, width=32)) == _layers(DCGANGenerator28(z_dim=16, width=32))
    enc, critic = _layers(VAEEncoder(z_dim=16, width=32)), _layers(DCGANDiscriminator28(width=32, norm="none"))
    assert enc[:-1] == critic[:-1]
    assert enc[-1] == "Linear(in_features=3136, out_features=32)" != critic[-1]
    assert "LeakyReLU(negative_slope=0.2)" in enc


def test_the_classes_alone_build_the_pages_vae():
    """VAEDecoder() and VAEEncoder() (a notebook, the Hub mixin without a config) are the preset's networks."""
    cfg = TrainConfig.preset("vae")
    dec, enc = registry.get("vae").build(cfg)
    assert VAEDecoder()._hub_mixin_config == dec._hub_mixin_config
    assert VAEEncoder()._hub_mixin_config == enc._hub_mixin_config
    assert _layers(VAEDecoder()) == _layers(dec) and _layers(VAEEncoder()) == _layers(enc)


def test_the_registry_says_it_is_not_a_gan():
    spec = registry.get("vae")
    assert not spec.adversarial and spec.roles == ("decoder", "encoder") and not spec.wgan
    g, e = spec.build(TrainConfig.preset("vae"))
    assert isinstance(g, VAEDecoder) and isinstance(e, VAEEncoder)
    assert e(torch.zeros(2, 1, 28, 28)).shape == (2, 2 * g.z_dim)
    assert all(registry.get(m).adversarial for m in registry.MODELS if m != "vae")


def test_loss_decreases_on_a_tiny_run_and_no_gan_metrics(digits):
    t = Trainer(TrainConfig.preset("vae", batch_size=32, width=8, balance=True, snapshot_every=1000), digits, device="cpu")
    hist = t.step(80)
    assert set(hist[0]) == {"loss", "rec", "kl", "step"}  # no D: no accuracies, no skipped turns
    first, last = np.mean([m["loss"] for m in hist[:10]]), np.mean([m["loss"] for m in hist[-10:]])
    assert last < 0.8 * first, (first, last)
    assert all(m["kl"] >= 0 for m in hist) and all(m["loss"] == pytest.approx(m["rec"] + m["kl"], rel=1e-5) for m in hist)


def test_save_load_and_resume(digits, tmp_path):
    cfg = TrainConfig.preset("vae", batch_size=16, width=8, snapshot_every=1000)
    a = Trainer(cfg, digits, device="cpu")
    a.step(4)
    a.save(tmp_path / "run")
    assert (tmp_path / "run" / "encoder" / "model.safetensors").exists()
    assert not (tmp_path / "run" / "discriminator").exists()
    G = load_generator(tmp_path / "run")
    assert isinstance(G, VAEDecoder)
    assert torch.equal(as_trained(G, cfg, "cpu").generate(5, seed=2), a.generator.generate(5, seed=2))  # the run's layers
    b = Trainer.resume(tmp_path / "run", digits, device="cpu")
    assert json.dumps(a.step(3)) == json.dumps(b.step(3))


def test_a_nan_stops_the_run_with_the_vae_message(digits):
    t = Trainer(TrainConfig.preset("vae", batch_size=8, width=8), digits, device="cpu")
    with torch.no_grad():
        for p in t.D.parameters():
            p.fill_(float("nan"))
    t.step(3)
    assert t.iteration == 1 and t.error.code == "train.diverged_vae" and "VAE loss" in str(t.error)


def test_cli_trains_saves_samples_and_scores_the_vae(root, tmp_path):
    out = tmp_path / "vae"
    r = cli("train", "--model", "vae", "--steps", 10, "--batch-size", 16, "--width", 8, "--no-score", "--out", out, cwd=root)
    assert json.loads(r.stdout.strip().splitlines()[-1])["steps"] == 10
    assert json.loads((out / "config.json").read_text())["architecture"] == "VAEDecoder"
    cli("sample", out, "--n", 6, "--out", tmp_path / "s.npy", cwd=root)
    a = np.load(tmp_path / "s.npy")
    assert a.shape == (6, 28, 28) and a.dtype == np.uint8
    scores = json.loads(cli("score", out, "--n", 40, cwd=root).stdout)
    assert scores["n"] == 40 and 0 <= scores["confident_share"] <= 1


# ---------------------------------------------------------------- the race and its measurements


def test_sharpness_falls_with_blur_and_is_zero_for_flat_images():
    real = mnist_tensor("test")[:200]
    blurred = F.avg_pool2d(real, 3, 1, 1)
    assert sharpness(blurred)["laplacian_var"] < 0.3 * sharpness(real)["laplacian_var"]
    assert sharpness(torch.zeros(4, 1, 28, 28)) == {"laplacian_var": 0.0, "gradient": 0.0}


class Blurry(torch.nn.Module):
    """A 'generator' that hands out real test digits, optionally blurred: a known answer for compare()."""
    def __init__(self, blur: bool):
        super().__init__()
        self.blur = blur

    def generate(self, n, seed=0):
        x = mnist_tensor("test")[1000:1000 + n]
        return F.avg_pool2d(x, 3, 1, 1) if self.blur else x


def test_compare_draws_each_models_samples_from_the_given_seed():
    seeds = []

    class Recording(Blurry):
        def generate(self, n, seed=0):
            seeds.append(seed)
            return super().generate(n, seed)

    versus.compare({"vae": Recording(True), "gan": Recording(False)}, n=20, seed=7)
    versus.compare({"gan": Recording(False)}, 20)
    assert seeds == [7, 7, 0]


def test_compare_ranks_blur_against_real_digits():
    r = versus.compare({"vae": Blurry(True), "gan": Blurry(False)}, n=200)
    assert r["real"]["vs_real"] == 1.0
    assert r["vae"]["vs_real"] < 0.5 and 0.8 < r["gan"]["vs_real"] < 1.25
    assert r["gan"]["confidence"] > 0.9 and r["gan"]["confidence"] > r["vae"]["confidence"]


class Clocked:
    """A trainer whose steps take a known time: the race's arithmetic without a busy machine's noise."""
    def __init__(self, name, seconds_per_step, log):
        self.name, self.dt, self.log, self.elapsed, self.error = name, seconds_per_step, log, 0.0, None

    def step(self, n=1):
        self.elapsed += n * self.dt
        self.log.append(self.name)


def test_race_gives_both_the_same_training_time_in_turns():
    log = []
    gan, vae = Clocked("gan", 0.03, log), Clocked("vae", 0.01, log)
    versus.race([gan, vae], seconds=1.0, slice_s=0.1)
    assert 1.0 <= gan.elapsed < 1.0 + 0.03 + 1e-9 and 1.0 <= vae.elapsed < 1.0 + 0.01 + 1e-9
    assert log.count("gan") == 34 and log.count("vae") == 100
    turns = [name for i, name in enumerate(log) if i == 0 or log[i - 1] != name]
    assert len(turns) >= 2 * 9, "slices of 0.1 s, taken in turns"
    assert versus.catch_up(vae, vae.elapsed - 1, 10.0) == 0.0  # ahead already: nothing to do
    assert versus.catch_up(vae, vae.elapsed, 10.0) == 0.0  # level: nothing either


def test_race_turns_last_half_a_second_and_stop_at_the_goal():
    """Steps of a quarter and an eighth of a second (exact in binary): each turn trains half a second, the
    budget to the step, and both stop on the goal, not a step past it."""
    log = []
    gan, vae = Clocked("gan", 0.25, log), Clocked("vae", 0.125, log)
    versus.race([gan, vae], seconds=2.0)
    assert gan.elapsed == vae.elapsed == 2.0
    assert log == (["gan"] * 2 + ["vae"] * 4) * 4
    assert versus.catch_up(gan, 10.0, budget_s=0.5) == 0.5  # a budget is spent to the step, not a step past it


def test_session_rival_catches_up_with_the_gan(digits):
    s = TrainSession(digits, TrainConfig.preset("mlp", batch_size=16, width=32))
    s.tick_seconds = 0.2
    s.set_versus(True)
    assert s.rival is None  # nothing to race yet
    s.request_step()
    assert s.rival is not None and s.rival.cfg.model == "vae"
    # the VAE gets twice the GAN's training time per tick until it has caught up: a slow GAN tick (a loaded
    # machine) leaves it behind for a tick or two, never for good
    s.start()
    for _ in range(40):  # the GAN trains half a second (its first ticks are a step or two)
        s.tick()
        if s.trainer.elapsed > 0.5:
            break
    assert s.trainer.elapsed > 0.5
    for _ in range(20):
        if s.rival.elapsed >= s.trainer.elapsed - 1e-9:
            break
        s.tick()
    assert s.rival.elapsed >= s.trainer.elapsed - 1e-9 and s.rival.iteration > 0
    assert s.rival.snapshots[-1][0] == s.rival.iteration
    s.set_versus(False)
    assert s.rival is None
    s.reset()
    s.set_versus(True)
    s.cfg = TrainConfig.preset("vae", batch_size=16, width=8)
    s.request_step()
    assert s.rival is None, "a VAE does not race a VAE"


# ---------------------------------------------------------------- the page


PAGE = "../views/2_train.py"


@pytest.fixture
def fast_ticks(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)


def test_page_trains_the_vae_with_its_own_labels_and_curve(fast_ticks):
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.selectbox(key="train.w.model").set_value("vae").run()
    at.number_input(key="train.w.batch_size").set_value(16).run()
    assert at.sidebar.toggle(key="train.w.balance").disabled
    assert at.number_input(key="train.w.lr_g").label == "Decoder learning rate"
    assert at.toggle(key="train.versus").disabled  # nothing to race: it is the VAE
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    s = at.session_state["train.session"]
    assert s.trainer.cfg.model == "vae" and s.trainer.iteration >= 1 and s.error is None
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) == 1 and "ELBO" in specs[0]
    assert np.isfinite(s.arrays()["loss"]).all()


def test_page_races_a_vae_beside_the_gan_and_measures_both(fast_ticks):
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.selectbox(key="train.w.model").set_value("mlp").run()
    at.number_input(key="train.w.batch_size").set_value(16).run()
    at.toggle(key="train.versus").set_value(True).run()
    at.button(key="train.step").click().run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    s = at.session_state["train.session"]
    assert s.rival is not None and s.rival.elapsed >= s.trainer.elapsed - 1e-9
    report = s.versus_report["scores"]
    assert set(report) == {"vae", "gan", "real"} and report["real"]["vs_real"] == 1.0
    assert any("Sharpness next to real digits" in c.value for c in at.caption)
    captions = [img.captions[0] for img in at.image if img.captions]
    assert any(c.startswith("VAE: ") and f"step {s.rival.iteration}" in c for c in captions)
    assert any(c.startswith("FNN GAN") and f"step {s.trainer.iteration}" in c for c in captions)


def test_page_gan_caption_gives_the_seconds_of_its_snapshot(fast_ticks, monkeypatch):
    """While a run trains the grid shows G as it was at its last snapshot: the caption's seconds are the
    snapshot's, not the trainer's now (up to snapshot_every_s later), whichever took it: the session's clock
    or the trainer's own every snapshot_every steps."""
    monkeypatch.setattr(TrainSession, "snapshot_every_s", 1e9)  # the session's clock takes none while running
    taken, snapshot = {}, Trainer.snapshot  # (trainer, step) -> its training seconds when the snapshot was taken

    def spy(self):
        snapshot(self)
        taken[id(self), self.iteration] = self.elapsed
    monkeypatch.setattr(Trainer, "snapshot", spy)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.selectbox(key="train.w.model").set_value("mlp").run()
    at.number_input(key="train.w.batch_size").set_value(16).run()
    at.toggle(key="train.versus").set_value(True).run()
    at.button(key="train.step").click().run()
    s = at.session_state["train.session"]
    s.trainer.cfg.snapshot_every = 3  # the trainer's own snapshots, then none
    s.start()
    try:
        while s.trainer.elapsed < 0.25:
            assert s.tick() > 0
        s.trainer.cfg.snapshot_every = 10**6
        while s.trainer.elapsed - s.snapshot_seconds < 0.3:
            assert s.tick() > 0
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        step, then = s.trainer.snapshots[-1][0], taken[id(s.trainer), s.trainer.snapshots[-1][0]]
        assert step % 3 == 0 and then >= 0.2 and s.trainer.iteration > step and f"{s.trainer.elapsed:.1f}" != f"{then:.1f}"
        assert s.snapshot_seconds == then
        gan = [img.captions[0] for img in at.image if img.captions and img.captions[0].startswith("FNN GAN")]
        from ui.i18n import t
        assert gan == [t("versus.gan_caption", model=t("model.mlp"), seconds=f"{then:.1f}", step=step)]
    finally:
        s.pause()


@pytest.fixture
def media(monkeypatch):
    from gan_devkit.apptest_media import record_media
    return record_media(monkeypatch)


@pytest.mark.parametrize("model", ["vae", "progressive"])
def test_page_download_loads_back_and_samples(model, media, fast_ticks, tmp_path):
    """The page's generator download is a run folder every pipeline loads: same images, and `sample` works."""
    import io
    import zipfile
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.selectbox(key="train.w.model").set_value(model).run()
    at.number_input(key="train.w.batch_size").set_value(8).run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with zipfile.ZipFile(io.BytesIO(media.download(f"mnist-{model}-generator.zip"))) as z:
        z.extractall(tmp_path)
    G = load_generator(tmp_path / f"mnist-{model}")
    tr = at.session_state["train.session"].trainer
    as_trained(G, tr.cfg, tr.device)  # bit for bit in the run's layout and layers (gan_core.layout, gan_core.one_channel)
    assert type(G) is type(tr.generator) and torch.equal(G.generate(4, seed=1), tr.generator.generate(4, seed=1))
    from gan_core.pipelines import sample_images
    assert sample_images(G, 3, seed=2).shape == (3, 28, 28)

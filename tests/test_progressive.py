"""Progressive growing: the schedule, the fade-in arithmetic of both networks, save/load mid-growth,
the CLI and the pages."""
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from streamlit.testing.v1 import AppTest

from gan_core import layout, progressive, registry
from gan_core.config import TrainConfig
from gan_core.data import mnist_tensor
from gan_core.hub import load_model, save_model
from gan_core.progressive import ProgressiveDiscriminator, ProgressiveGenerator, phase_changes, schedule
from gan_core.training import Trainer
from gan_devkit.cli_run import cli
from ui.train_session import TrainSession


@pytest.fixture(scope="module")
def digits():
    return mnist_tensor("train")[:256]


def test_schedule_phases_and_alpha():
    P = 10
    assert [schedule(P, s)[0] for s in (0, 9, 10, 19, 20, 29, 30, 39, 40, 10_000)] == [7, 7, 14, 14, 14, 14, 28, 28, 28, 28]
    assert [schedule(P, s)[1] for s in range(10, 20)] == [i / 10 for i in range(10)]  # 0 -> 1 while 14x14 fades in
    assert [schedule(P, s)[1] for s in (0, 9, 20, 29, 40)] == [1.0] * 5
    assert schedule(P, 35) == (28, 0.5) and schedule(0, 0) == (28, 1.0)
    assert phase_changes(P, 31) == [(10, 14, True), (20, 14, False), (30, 28, True)]
    assert phase_changes(P, 10_000)[-1] == (40, 28, False) and phase_changes(0, 100) == []
    assert phase_changes(P, 39)[-1] == (30, 28, True), "a phase that begins after up_to is not marked"
    assert [schedule(1, s) for s in range(6)] == [(7, 1.0), (14, 0.0), (14, 1.0), (28, 0.0), (28, 1.0), (28, 1.0)]
    assert phase_changes(1, 9) == [(1, 14, True), (2, 14, False), (3, 28, True), (4, 28, False)]


def test_trainer_grows_at_the_scheduled_steps(digits):
    cfg = TrainConfig.preset("progressive", phase_steps=5, batch_size=8, snapshot_every=1000)
    t = Trainer(cfg, digits, device="cpu")
    seen = []
    for _ in range(22):
        assert (t.G.resolution, float(t.G.alpha)) == pytest.approx(schedule(5, t.iteration))
        assert (t.D.resolution, t.G_ema.resolution) == (t.G.resolution, t.G.resolution)
        m = t.step(1)[0]
        seen.append((m["res"], round(m["alpha"], 6)))
    assert seen[:5] == [(7, 1.0)] * 5
    assert seen[5:10] == [(14, a) for a in (0.0, 0.2, 0.4, 0.6, 0.8)]
    assert seen[10:15] == [(14, 1.0)] * 5 and seen[15][0] == 28 and seen[15][1] == 0.0 and seen[20:] == [(28, 1.0)] * 2
    assert t.G(t.fixed_z[:2]).shape == (2, 1, 28, 28) and t.G.native(t.fixed_z[:2]).shape == (2, 1, 28, 28)


def test_generator_draws_each_resolution_as_28x28_and_fades_from_the_old_output():
    torch.manual_seed(0)
    G = ProgressiveGenerator(z_dim=8, width=8).eval()
    z = torch.randn(3, 8)
    for res in (7, 14):
        G.set_resolution(res)
        low = G.native(z)
        assert low.shape == (3, 1, res, res)
        assert torch.equal(G(z), F.interpolate(low, size=28))  # the intermediate resolution, upsampled
    G.set_resolution(7)
    old = F.interpolate(G.native(z), scale_factor=2)
    G.set_resolution(14, alpha=0.0)
    assert torch.allclose(G.native(z), old, atol=1e-6), "alpha = 0: the new block changes nothing yet"
    G.set_resolution(14, alpha=1.0)
    new = G.native(z)
    G.set_resolution(14, alpha=0.25)
    expected = torch.tanh(0.25 * torch.atanh(new.clamp(-0.999999, 0.999999)) + 0.75 * torch.atanh(old.clamp(-0.999999, 0.999999)))
    assert torch.allclose(G.native(z), expected, atol=1e-4), "a blend of the two outputs (before tanh)"
    G.set_resolution(28)
    assert G.native(z).shape == G(z).shape == (3, 1, 28, 28)


def layer_plan(seq) -> list[str]:
    return [f"LeakyReLU({m.negative_slope})" if isinstance(m, torch.nn.LeakyReLU) else type(m).__name__ for m in seq]


@pytest.mark.parametrize("width, channels", [(8, (16, 8, 4)), (1, (2, 1, 1))])  # 7x7, 14x14, 28x28
def test_the_networks_are_progans_layer_for_layer(width, channels):
    """What the Architectures page shows from this code: channels halving as the resolution doubles (at least
    one), a convolution, batch norm and LeakyReLU(0.2) per G block, a convolution, LeakyReLU(0.2) and average
    pooling per D block, LeakyReLU(0.2) after D's from-image convolutions, D's head ending in its dense layer
    (hidden) and one score per image."""
    G, D = ProgressiveGenerator(z_dim=8, width=width), ProgressiveDiscriminator(width=width, hidden=16)
    assert (G.resolution, float(G.alpha), G.img_size) == (28, 1.0, 28), "built grown"
    assert layer_plan(G.project) == ["Linear", "LeakyReLU(0.2)"] and G.project[0].out_features == channels[0] * 49
    assert [layer_plan(b) for b in G.blocks] == [["Conv2d", "BatchNorm2d", "LeakyReLU(0.2)"]] + [
        ["Upsample", "Conv2d", "BatchNorm2d", "LeakyReLU(0.2)"]] * 2
    assert [b[-2].num_features for b in G.blocks] == [t.in_channels for t in G.to_img] == list(channels)
    assert [layer_plan(b) for b in D.blocks[1:]] == [["Conv2d", "LeakyReLU(0.2)", "AvgPool2d"]] * 2
    assert [f.out_channels for f in D.from_img] == list(channels) and layer_plan([D.act]) == ["LeakyReLU(0.2)"]
    assert [b[0].in_channels for b in D.blocks[1:]] == list(channels[1:])
    assert layer_plan(D.head) == ["Conv2d", "LeakyReLU(0.2)", "Flatten", "Linear", "LeakyReLU(0.2)", "Linear"]
    assert D.head[3].in_features == channels[0] * 49 and D.head[3].out_features == 16
    assert layer_plan(ProgressiveDiscriminator(width=width).head)[-2:] == ["Flatten", "Linear"]
    assert D(torch.zeros(3, 1, 28, 28)).shape == (3,)
    G.set_resolution(14)
    assert float(G.alpha) == 1.0, "no fade-in unless asked"


def test_at_7x7_there_is_nothing_to_fade_from():
    torch.manual_seed(0)
    G = ProgressiveGenerator(z_dim=8, width=8).eval()
    z = torch.randn(3, 8)
    G.set_resolution(7)
    grown = G(z)
    G.set_resolution(7, alpha=0.5)
    assert torch.equal(G(z), grown)


def test_discriminator_reads_downsampled_images_and_fades_in_likewise():
    torch.manual_seed(0)
    D = ProgressiveDiscriminator(width=8).eval()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    D.set_resolution(7)
    at7 = D(x)
    assert torch.allclose(D(F.interpolate(F.avg_pool2d(x, 4), size=28)), at7, atol=1e-5), "it sees 7x7 only"
    D.set_resolution(14, alpha=0.0)
    assert torch.allclose(D(x), at7, atol=1e-5), "alpha = 0: the old path alone"
    D.set_resolution(14, alpha=1.0)
    assert not torch.allclose(D(x), at7, atol=1e-3)
    D.set_resolution(14, alpha=0.25)  # a blend of the new block's reading and the old path's, before the head
    x14 = F.avg_pool2d(x, 2)
    new, old = D.blocks[1](D.act(D.from_img[1](x14))), D.act(D.from_img[0](F.avg_pool2d(x14, 2)))
    assert torch.allclose(D(x), D.head(0.25 * new + 0.75 * old).squeeze(1), atol=1e-6)


@pytest.mark.parametrize("steps", [7, 30])  # mid fade-in of 14x14, and fully grown
def test_saved_generator_draws_the_same_images(digits, tmp_path, steps):
    cfg = TrainConfig.preset("progressive", phase_steps=5, batch_size=8, snapshot_every=1000)
    t = Trainer(cfg, digits, device="cpu")
    t.step(steps)
    before = t.generator.generate(6, seed=4)
    t.save(tmp_path / "run")
    G = load_model(tmp_path / "run")
    assert isinstance(G, ProgressiveGenerator) and (G.resolution, float(G.alpha)) == pytest.approx(schedule(5, steps))
    assert cfg.channels_last  # bit for bit in the run's memory layout and its 1x1 convolutions as matmuls (gan_core.layout;
    # NCHW, or oneDNN's 1x1 convolution, rounds differently: tests/test_training.py)
    assert torch.equal(layout.channels_last(G).generate(6, seed=4), before)
    assert torch.allclose(G.generate(6, seed=4), before, atol=1e-5)  # as the latent page and the CLI load it
    resumed = Trainer.resume(tmp_path / "run", digits, device="cpu")
    assert (resumed.G.resolution, float(resumed.D.alpha)) == pytest.approx(schedule(5, steps))
    state = torch.load(tmp_path / "run" / "trainer_state.pt", weights_only=True)
    assert state["config"]["phase_steps"] == 5


def test_no_bias_before_a_batch_norm():
    """The norm subtracts a bias again: such a bias trains on rounding noise (gan_core.progressive.LEGACY_BIASES)."""
    G = ProgressiveGenerator(z_dim=8, width=8)
    for block in G.blocks:
        for layer, after in zip(block, list(block)[1:]):
            if isinstance(after, torch.nn.BatchNorm2d):
                assert layer.bias is None
    assert not {k for k in G.state_dict() if k in progressive.LEGACY_BIASES}


def test_a_generator_saved_with_the_old_biases_draws_what_it_drew(tmp_path):
    """A folder written before the biases went: each is folded into its norm's running mean (exact in eval
    mode, and in training mode the batch's mean cancels it either way)."""
    torch.manual_seed(0)
    old = progressive.with_legacy_biases(ProgressiveGenerator(z_dim=8, width=8))
    with torch.no_grad():
        for key in progressive.LEGACY_BIASES:
            old.get_submodule(key.rsplit(".", 1)[0]).bias.normal_(0, 0.5)
        for _ in range(3):
            old(torch.randn(16, 8))  # the running means learn the biases
    save_model(old, tmp_path / "old")
    assert set(progressive.LEGACY_BIASES) <= set(load_file(tmp_path / "old" / "model.safetensors"))
    G = load_model(tmp_path / "old")
    assert not set(progressive.LEGACY_BIASES) & set(G.state_dict())
    z = torch.randn(5, 8)
    assert torch.allclose(G(z), old.eval()(z), atol=1e-6)
    assert torch.allclose(G.train()(z), old.train()(z), atol=1e-5)


@pytest.mark.parametrize("equalized_lr", ["d", "both"])  # G's optimizer: one group, or a group per He constant
def test_a_run_saved_with_the_old_biases_resumes_with_their_moments_dropped(digits, tmp_path, monkeypatch, equalized_lr):
    cfg = TrainConfig.preset("progressive", phase_steps=2, batch_size=8, width=8, equalized_lr=equalized_lr, bf16=False,
                             snapshot_every=1000)
    build = registry.BUILDERS["progressive"]
    monkeypatch.setitem(registry.BUILDERS, "progressive",
                        lambda *a: (lambda G, D: (progressive.with_legacy_biases(G), D))(*build(*a)))
    old = Trainer(cfg, digits, device="cpu")
    old.step(7)  # into the fade-in of 28x28: every weight has had a step
    old.save(tmp_path / "run")
    monkeypatch.undo()
    new = Trainer.resume(tmp_path / "run", digits, device="cpu")
    old_params = dict(old.G.named_parameters())
    assert len(old_params) == len(list(new.G.parameters())) + len(progressive.LEGACY_BIASES)
    for name, p in new.G.named_parameters():  # each parameter's moments, the biases' gone
        assert torch.equal(new.opt_g.state[p]["exp_avg_sq"], old.opt_g.state[old_params[name]]["exp_avg_sq"]), name
    at_save = {name: p.detach().clone() for name, p in new.G.named_parameters()}
    old.step(3)
    new.step(3)  # the same training from here: the biases had no say in it (in fp32: bf16 rounds them in)
    assert [m["g_loss"] for m in new.history[-3:]] == pytest.approx([m["g_loss"] for m in old.history[-3:]], abs=1e-4)
    # Each weight the same, up to rounding: the old G adds its biases, and with Adam's beta1 at 0 a gradient near
    # rounding noise moves its weight by up to a step either way (one OpenMP thread: 1% of the distance moved in
    # `project.0.weight`, where two threads read 1e-5). Resuming with fresh moments reads 22-100% apart.
    for name, p in new.G.named_parameters():
        moved = (p - at_save[name]).norm()
        assert (p - old_params[name]).norm() <= 0.05 * moved + 1e-6, name


def test_cli_grows_saves_and_samples_28x28(root, tmp_path):
    out = tmp_path / "prog"
    r = cli("train", "--model", "progressive", "--steps", 14, "--phase-steps", 3, "--batch-size", 8, "--width", 8,
            "--no-score", "--out", out, cwd=root)
    assert json.loads(r.stdout.strip().splitlines()[-1])["steps"] == 14
    G = load_model(out)
    assert isinstance(G, ProgressiveGenerator) and G.resolution == 28 and float(G.alpha) == 1.0
    assert torch.load(out / "trainer_state.pt", weights_only=True)["config"]["phase_steps"] == 3
    cli("sample", out, "--n", 5, "--out", tmp_path / "s.npy", cwd=root)
    a = np.load(tmp_path / "s.npy")
    assert a.shape == (5, 28, 28) and a.dtype == np.uint8
    r = cli("train", "--model", "progressive", "--steps", 1, "--phase-steps", -1, "--out", out, cwd=root, check=False)
    assert r.returncode == 2 and "phase_steps" in r.stderr


def test_registry_and_preset():
    spec = registry.get("progressive")
    assert spec.adversarial and spec.family == "progressive" and spec.preset["phase_steps"] > 0
    assert TrainConfig.preset("progressive").phase_steps == spec.preset["phase_steps"]
    g, d = spec.build(TrainConfig.preset("progressive"))
    assert g.resolution == d.resolution == 28, "built grown (the Architectures page); the trainer sets the phase"


# ---------------------------------------------------------------- the pages


def test_train_page_shows_resolution_and_marks_the_phases(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.1)
    at = AppTest.from_file("../views/2_train.py", default_timeout=180).run()
    at.selectbox(key="train.w.model").set_value("progressive").run()
    at.number_input(key="train.w.batch_size").set_value(8).run()
    s = at.session_state["train.session"]
    s.template = replace(s.template, phase_steps=2)  # a short schedule (the preset's is 200 steps a phase)
    at.run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    step = s.trainer.snapshots[-1][0]
    res, alpha = schedule(2, step)
    caption = f"{res}×{res} fading in, α = {alpha:.2f}" if alpha < 1 else f"resolution {res}×{res}"
    captions = [img.captions[0] for img in at.image if img.captions]
    assert any(caption in c for c in captions), captions
    while s.trainer.iteration < 9:
        at.button(key="train.step").click().run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = [shape["x0"] for shape in spec["layout"].get("shapes", [])]
    assert lines[:4] == [2, 4, 6, 8], lines
    assert s.trainer.G.resolution == 28 and set(s.arrays()["res"][:2]) == {7}


def test_architectures_page_draws_each_phase_and_no_longer_says_not_implemented(root):
    en = json.loads((root / "locales" / "en.json").read_text(encoding="utf-8"))
    assert "not implement" not in en["arch.problems.highres.app"] and "--model progressive" in en["arch.problems.highres.app"]
    assert "has no VAE" not in en["arch.problems.vae.app"]
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.session_state["arch.tab"] = en["arch.tab.models"]
    at.run()
    at.radio(key="arch.design").set_value("progressive").run()
    assert not at.exception
    dots = {}
    for res in progressive.RESOLUTIONS:
        at.radio(key="arch.grow").set_value(res).run()
        dots[res] = [g.proto.spec for g in at.get("graphviz_chart")]
    assert "Upsample + Tanh\\n1×28×28" in dots[7][0] and "1×7×7" in dots[7][0]  # G draws 7x7, shown at 28x28
    assert "AvgPool2d\\n1×7×7" in dots[7][1]  # D reads the image shrunk to 7x7
    assert "1×14×14" in dots[14][0] and "8×28×28" in dots[28][0]
    at.radio(key="arch.design").set_value("vae").run()
    assert not at.exception
    labels = [m.value for m in at.markdown]
    assert any(en["arch.decoder"] in v for v in labels) and any(en["arch.encoder"] in v for v in labels)

"""bench/bench_switch.py compares what it says: each engine switch of the Trainer against its baseline."""
import dataclasses

import pytest
import torch

from gan_devkit.bench_scripts import load

bench = load("bench_switch")


def small():
    torch.manual_seed(0)
    return torch.rand(256, 1, 28, 28) * 2 - 1, torch.arange(256) % 10


def test_fused_adam_against_the_default_adam():
    data, labels = small()
    base, ours = bench.trainer("fused_adam", "cdcgan", False, data, labels), bench.trainer("fused_adam", "cdcgan", True, data, labels)
    assert not base.opt_g.defaults["fused"] and not base.opt_d.defaults["fused"]
    assert ours.opt_g.defaults["fused"] and ours.opt_d.defaults["fused"]
    # the same settings otherwise: only the implementation differs
    for a, b in ((base.opt_g, ours.opt_g), (base.opt_d, ours.opt_d)):
        assert (a.defaults["lr"], a.defaults["betas"]) == (b.defaults["lr"], b.defaults["betas"])
    cfg = base.cfg  # G's rate and D's where they belong (the preset's differ)
    assert (base.opt_g.defaults["lr"], base.opt_d.defaults["lr"]) == (cfg.lr_g, cfg.lr_d) and cfg.lr_g != cfg.lr_d


def test_channels_last_against_the_same_preset_in_the_default_layout():
    data, labels = small()
    base, ours = (bench.trainer("channels_last", "dcgan", on, data, labels) for on in (False, True))
    assert not base.cfg.channels_last and ours.cfg.channels_last
    assert base.cfg == dataclasses.replace(ours.cfg, channels_last=False)  # nothing else differs
    conv = [n for n, p in ours.G.named_parameters() if p.ndim == 4]
    assert conv and all(dict(ours.G.named_parameters())[n].is_contiguous(memory_format=torch.channels_last) for n in conv)
    assert not bench._nhwc(base) and bench._nhwc(ours)


def test_one_g_pass_against_one_more_pass_of_g():
    data, labels = small()
    base, ours = (bench.trainer("one_g_pass", "wgan-gp", on, data, labels) for on in (False, True))
    assert base.cfg == ours.cfg
    passes = []
    for t in (base, ours):
        t.G.register_forward_hook(lambda m, i, out: passes.append(torch.is_grad_enabled()))
    base.step(1)
    assert passes == [False, True]  # the pass the loop saves, then the critic's fakes, which are G's turn's too
    passes.clear()
    ours.step(1)
    assert passes == [True]


def test_each_switch_applies_to_the_models_it_names():
    assert "cdcgan" in bench._channels_last_models() and "mlp" not in bench._channels_last_models()  # an FNN has no maps
    assert "wgan" not in bench._adam_models() and "cdcgan" in bench._adam_models()  # the clipped WGAN: RMSprop
    assert set(bench._wgan_models()) == {"wgan", "wgan-gp"}
    assert {"cdcgan", "wgan-gp", "progressive", "vae"} <= set(bench._layout_flatten_models())
    assert bench._class_norm_models() == ["cdcgan"]
    assert bench._pointwise_models() == ["progressive"]  # its "from pixels" and "to pixels" layers
    assert set(bench._joint_models()) == {"slides", "mlp", "wgan-gp", "progressive"}  # no batch norm in D
    assert set(bench._halves_models()) == {"cdcgan", "dcgan", "wgan"}  # batch norm in D


def test_the_joint_d_baseline_judges_the_two_batches_in_two_forwards():
    data, labels = small()
    base, ours = (bench.trainer("joint_d", "wgan-gp", on, data, labels, warm_up=1) for on in (False, True))
    assert base.cfg == ours.cfg
    batches = []
    for t in (base, ours):
        t.D.register_forward_hook(lambda m, i, out: batches.append(len(i[0])))
    n = base.local_batch
    base.step(1)
    assert batches[:2] == [n, n] and batches[-1] == n  # real, fake (a penalty's pass may follow), G's turn
    batches.clear()
    ours.step(1)
    assert batches[0] == 2 * n and batches[-1] == n


def test_the_halves_baseline_judges_a_d_with_batch_norm_in_two_forwards():
    data, labels = small()
    base, ours = (bench.trainer("halves", "cdcgan", on, data, labels, warm_up=1) for on in (False, True))
    assert base.cfg == ours.cfg and base._halves and ours._halves
    batches = []
    for t in (base, ours):  # D's first convolution (its heads' forward does not call D's own)
        t.D.main[0].register_forward_hook(lambda m, i, out: batches.append(len(i[0])))
    n = base.local_batch
    base.step(1)
    assert batches == [n, n, n]  # real, fake, G's turn
    batches.clear()
    ours.step(1)
    assert batches == [2 * n, n]


def test_the_flatten_and_class_norm_baselines_are_the_code_before():
    data, labels = small()
    base, ours = (bench.trainer("layout_flatten", "cdcgan", on, data, labels) for on in (False, True))
    assert base.cfg == ours.cfg
    flat = [type(m) for m in base.D.modules() if isinstance(m, torch.nn.Flatten)]
    assert flat == [torch.nn.Flatten]  # the plain one, in the trained D (and in what its wrapper calls)
    assert any(isinstance(m, bench.layout.Flatten) for m in ours._heads.modules())
    assert not any(isinstance(m, bench.layout.Flatten) for m in base._heads.modules())
    base, ours = (bench.trainer("class_norm_select", "cdcgan", on, data, labels) for on in (False, True))
    norms = [m for m in base.G.modules() if isinstance(m, bench.models.ClassBatchNorm)]
    x, digits = torch.randn(8, norms[0].weight.shape[1]), torch.arange(8) % 10
    norms[0].train()
    torch.testing.assert_close(norms[0](x, digits), bench.models.ClassBatchNorm.forward(norms[0], x, digits))
    assert norms and all("forward" in vars(m) for m in norms)


def test_the_pointwise_baseline_convolves_with_the_same_tensors():
    data, labels = small()
    base, ours = (bench.trainer("pointwise", "progressive", on, data, labels, warm_up=2) for on in (False, True))
    assert base.cfg == ours.cfg
    for t, kind in ((base, torch.nn.Conv2d), (ours, bench.layout.Pointwise)):
        ones = [m for net in (t.G, t.D) for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)]
        assert len(ones) == 6 and all(type(m) is kind for m in ones)  # to pixels and from pixels at 7, 14 and 28
    params = {id(p) for p in base.opt_g.param_groups[0]["params"]} | {id(p) for g in base.opt_d.param_groups for p in g["params"]}
    assert all(id(p) in params for p in base.D.from_img.parameters())  # the optimizer still trains them
    x = torch.randn(4, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(ours.D.from_img[2](x), base.D.from_img[2](x))
    assert not base.D.from_img[2](x).is_contiguous(memory_format=torch.channels_last)


def test_the_narrow_norm_baseline_normalises_with_the_same_tensors():
    data, labels = small()
    assert bench._narrow_norm_models() == ["progressive"]  # its G's 8 channels at 28x28
    base, ours = (bench.trainer("narrow_norm", "progressive", on, data, labels, warm_up=2) for on in (False, True))
    assert base.cfg == ours.cfg
    for t, kind in ((base, torch.nn.BatchNorm2d), (ours, bench.layout.NarrowBatchNorm)):
        narrow = [m for m in t.G.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.num_features < 16]
        assert len(narrow) == 1 and type(narrow[0]) is kind
        params = {id(p) for g in t.opt_g.param_groups for p in g["params"]}
        assert all(id(p) in params for p in narrow[0].parameters())  # the optimizer still trains them


def test_the_one_channel_baseline_convolves_with_nn_and_the_same_tensors():
    data, labels = small()
    assert set(bench._one_channel_models()) == {"cdcgan", "dcgan", "wgan-gp", "wgan", "vae"}  # not progressive: 1x1
    # no step first: under bf16 autocast the two orders of G's sums round apart, and Adam's first steps (lr x the sign of
    # a gradient near its eps) turn that into weights a learning rate apart
    base, ours = (bench.trainer("one_channel", "cdcgan", on, data, labels, warm_up=0) for on in (False, True))
    assert base.cfg == ours.cfg
    for t, kinds in ((base, (torch.nn.ConvTranspose2d, torch.nn.Conv2d)),
                     (ours, (bench.one_channel.OneChannelConvTranspose2d, bench.one_channel.OneChannelConv2d))):
        last, first = t.G.main[-2], t.D.main[0]  # G's layer into the digit, D's out of it
        assert (type(last), type(first)) == kinds
        g_params = {id(p) for g in t.opt_g.param_groups for p in g["params"]}
        d_params = {id(p) for g in t.opt_d.param_groups for p in g["params"]}
        assert {id(p) for p in last.parameters()} <= g_params and {id(p) for p in first.parameters()} <= d_params
    x, h = torch.randn(4, 1, 28, 28), torch.randn(4, base.G.main[-2].in_channels, 14, 14)
    torch.testing.assert_close(ours.D.main[0](x), base.D.main[0](x))
    torch.testing.assert_close(ours.G.main[-2](h), base.G.main[-2](h), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("switch", list(bench.SWITCHES))
def test_compare_reports_every_round(switch):
    data, labels = small()
    r = bench.compare(switch, bench.SWITCHES[switch][3]()[0], rounds=3, seconds=0.02, data=data, labels=labels)
    assert r["rounds"] == 3 and 0 <= r["switch_won"] <= 3
    assert r["ratio_range"][0] <= r["ratio"] <= r["ratio_range"][1]
    assert r["baseline_steps_per_s"] > 0 and r["switch_steps_per_s"] > 0

"""ProGAN's equalized learning rate (gan_core.equalized): the He start, the rate per layer, and that they train
exactly as ProGAN's runtime scale does."""
import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_core import equalized
from gan_core.config import TrainConfig
from gan_core.data import mnist_tensor
from gan_core.training import Trainer


def _net():
    return nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
                         nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.Flatten(), nn.Linear(32 * 8 * 8, 5))


def test_he_constants_use_the_inputs_each_output_sums():
    conv, up, dense = _net()[0], _net()[3], _net()[5]
    assert equalized.he_constant(conv) == pytest.approx(math.sqrt(2 / (3 * 9)))
    assert equalized.he_constant(up) == pytest.approx(math.sqrt(2 / (64 * 16 / 4)))  # stride 2: a quarter of the kernel
    assert equalized.he_constant(dense) == pytest.approx(math.sqrt(2 / 2048))


def test_he_init_draws_each_weight_at_its_constant_and_zeroes_biases():
    torch.manual_seed(0)
    net = _net()
    equalized.he_init(net)
    for layer in (net[0], net[3], net[5]):
        assert layer.weight.std().item() == pytest.approx(equalized.he_constant(layer), rel=0.1)
        assert abs(layer.weight.mean().item()) < 0.1 * equalized.he_constant(layer)
        assert torch.count_nonzero(layer.bias) == 0
    assert torch.equal(net[1].weight, torch.ones(64))  # a norm's scale is not a layer's weight: left as it was


@pytest.mark.parametrize("power", [1, 2])
def test_each_weight_gets_its_own_rate_and_every_parameter_one_group(power):
    net = _net()
    groups = equalized.param_groups(net, 0.01, power)
    seen = [id(p) for g in groups for p in g["params"]]
    assert sorted(seen) == sorted(id(p) for p in net.parameters())
    rate = {id(p): g["lr"] for g in groups for p in g["params"]}
    for layer in (net[0], net[3], net[5]):
        assert rate[id(layer.weight)] == pytest.approx(0.01 * equalized.he_constant(layer) ** power)
        assert rate[id(layer.bias)] == 0.01
    assert rate[id(net[1].weight)] == 0.01
    assert all(g["lr"] == pytest.approx(0.01 * g["lr_scale"]) for g in groups)
    assert len({g["lr_scale"] for g in groups}) == len(groups)  # one group per scale: one fused call each


class _Scaled(nn.Module):
    """ProGAN's own form: the stored weight times c in the forward pass."""

    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, v):
        return v * self.c


@pytest.mark.parametrize("opt", ["adam", "rmsprop", "sgd"])
def test_training_matches_progans_runtime_scale(opt):
    """w = c * v with v ~ N(0, 1) stepped at lr, and w stepped at lr * c (c^2 for SGD), move w the same:
    three steps on one batch give the same outputs. A rate scaled the wrong way (lr / c), SGD at c, or the
    biases scaled, would not."""
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(2, 16, 3), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(16 * 36, 1))
    equalized.he_init(ours)
    nn.init.normal_(ours[0].bias), nn.init.normal_(ours[3].bias)  # nonzero biases: their rate is checked too
    progan = nn.Sequential(nn.Conv2d(2, 16, 3), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(16 * 36, 1))
    for a, b in ((ours[0], progan[0]), (ours[3], progan[3])):
        c = equalized.he_constant(a)
        parametrize.register_parametrization(b, "weight", _Scaled(c))
        with torch.no_grad():
            b.parametrizations.weight.original.copy_(a.weight / c)
            b.bias.copy_(a.bias)
    make = {"adam": lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.0, 0.99), eps=1e-12),
            "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr, eps=1e-12),
            "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr)}[opt]
    lr = 0.05
    opt_ours = make(equalized.param_groups(ours, lr, power=2 if opt == "sgd" else 1), lr)
    opt_progan = make(progan.parameters(), lr)
    x = torch.randn(8, 2, 8, 8)
    for _ in range(3):
        for net, o in ((ours, opt_ours), (progan, opt_progan)):
            o.zero_grad()
            net(x).square().mean().backward()
            o.step()
    assert not torch.allclose(ours(x), torch.zeros(8, 1))
    torch.testing.assert_close(ours(x), progan(x), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours[3].weight, progan[3].weight, rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def small_data():
    return mnist_tensor("test")[:256]


def _cfg(**kw):
    return TrainConfig.preset("progressive", **{**dict(batch_size=16, width=8, n_fixed=8, bf16=False), **kw})


def test_a_trainer_starts_equalized_and_a_new_rate_keeps_the_layers_ratios(small_data):
    t = Trainer(_cfg(equalized_lr="both", lr_g=0.04, lr_d=0.02), small_data, device="cpu")
    conv = t.G.blocks[0][0]
    assert torch.count_nonzero(t.G.to_img[0].bias) == 0  # (the block's convolution has none: a batch norm follows)
    assert conv.weight.std().item() == pytest.approx(equalized.he_constant(conv), rel=0.15)
    group = next(g for g in t.opt_g.param_groups if any(p is conv.weight for p in g["params"]))
    assert group["lr"] == pytest.approx(0.04 * equalized.he_constant(conv))
    assert torch.equal(t.G_ema.blocks[0][0].weight, conv.weight)  # the average starts from the He start
    t.set_lr(0.02, 0.01)
    assert group["lr"] == pytest.approx(0.02 * equalized.he_constant(conv))
    assert {g["lr"] for g in t.opt_d.param_groups if g["lr_scale"] == 1.0} == {0.01}
    t.step(2)
    assert not t.error


def test_without_it_one_group_at_the_rate(small_data):
    t = Trainer(_cfg(equalized_lr="none", lr_g=0.004), small_data, device="cpu")
    assert [g["lr"] for g in t.opt_g.param_groups] == [0.004]
    assert torch.count_nonzero(t.G.to_img[0].bias) > 0  # PyTorch's own start


def test_d_alone_leaves_g_as_pytorch_starts_it(small_data):
    """The progressive preset equalizes D only: G keeps PyTorch's init and one rate, D gets both."""
    t = Trainer(_cfg(equalized_lr="d", lr_g=0.004, lr_d=0.01), small_data, device="cpu")
    assert [g["lr"] for g in t.opt_g.param_groups] == [0.004] and torch.count_nonzero(t.G.to_img[0].bias) > 0
    head = t.D.head[0]
    assert torch.count_nonzero(head.bias) == 0
    assert any(g["lr"] == pytest.approx(0.01 * equalized.he_constant(head)) for g in t.opt_d.param_groups
               if any(p is head.weight for p in g["params"]))
    assert TrainConfig.preset("progressive").equalized_lr == "d"


def test_an_equalized_run_resumes_with_its_rates(tmp_path, small_data):
    t = Trainer(_cfg(equalized_lr="both", lr_g=0.04, lr_d=0.02, seed=2), small_data, device="cpu")
    t.step(3)
    t.save(tmp_path / "run")
    after = t.step(2)
    resumed = Trainer.resume(tmp_path / "run", small_data, device="cpu")
    assert [g["lr"] for g in resumed.opt_g.param_groups] == [g["lr"] for g in t.opt_g.param_groups]
    assert [m["g_loss"] for m in resumed.step(2)] == pytest.approx([m["g_loss"] for m in after], rel=1e-5)

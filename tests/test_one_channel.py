"""gan_core.one_channel: the convolutions into one channel as a matmul and a scatter compute what nn's layers do,
forward, backward and backward again (a gradient penalty), and the trainer swaps them in on the CPU."""
import copy

import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck

from gan_core import one_channel, registry
from gan_core.layout import as_conv
from gan_core.one_channel import OneChannelConv2d, OneChannelConvTranspose2d, into_one, swap_in
from gan_core.training import TrainConfig, Trainer

# (in, kernel, stride, padding, output padding, map size): the digits' layers and odd ones
TRANSPOSED = [(16, 4, 2, 1, 0, 14), (8, 3, 2, 1, 1, 7), (8, 5, 1, 2, 0, 9), (4, 4, 2, 0, 0, 6), (3, 3, 3, 1, 2, 5),
              (5, (4, 3), (2, 1), (1, 0), (1, 0), 6)]
CONVS = [(16, 4, 2, 1, 28), (16, 3, 1, 1, 27), (8, 5, 3, 2, 29), (4, 4, 2, 0, 11), (6, 3, 2, 1, 8),
         (5, (4, 3), (2, 1), (1, 0), 9)]


def _pair(plain: nn.Module) -> tuple[nn.Module, nn.Module]:
    """The plain layer and its swapped twin holding copies of the same weights."""
    twin = swap_in(nn.Sequential(copy.deepcopy(plain)))[0]
    assert type(twin).__module__ == one_channel.__name__
    return plain, twin


def _grads(net, x, penalty: bool):
    """What a training step asks of a layer: its output, the input's gradient and every weight's gradient; with
    `penalty`, the weights' gradient of the squared input gradient (WGAN-GP's and R1's double backward)."""
    x = x.detach().clone().requires_grad_()
    y = net(x)
    loss = (y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum()
    if not penalty:
        return [y, *torch.autograd.grad(loss, [x, *net.parameters()])]
    (gx,) = torch.autograd.grad(loss, x, create_graph=True)
    return [y, gx, *torch.autograd.grad(gx.square().sum(), list(net.parameters()), materialize_grads=True)]


@pytest.mark.parametrize("c, k, s, p, op, n", TRANSPOSED)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("penalty", [False, True])
def test_a_transposed_convolution_into_one_channel_computes_what_nn_does(c, k, s, p, op, n, bias, penalty):
    torch.manual_seed(0)
    plain, twin = _pair(nn.ConvTranspose2d(c, 1, k, s, p, output_padding=op, bias=bias).double())
    x = torch.randn(3, c, n, n, dtype=torch.float64)
    for want, got in zip(_grads(plain, x, penalty), _grads(twin, x, penalty)):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("c, k, s, p, n", CONVS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("penalty", [False, True])
def test_a_convolution_of_one_channel_computes_what_nn_does(c, k, s, p, n, bias, penalty):
    torch.manual_seed(0)
    plain, twin = _pair(nn.Conv2d(1, c, k, s, p, bias=bias).double())
    x = torch.randn(3, 1, n, n, dtype=torch.float64)
    for want, got in zip(_grads(plain, x, penalty), _grads(twin, x, penalty)):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want)


def test_the_functions_pass_autograds_own_checks_twice():
    """Numerical against analytical gradients, and of the gradients (gradgradcheck), for both Functions."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    to_one = lambda x, w: one_channel._ToOneChannel.apply(x, w, (2, 2), (1, 1), (11, 11))  # output padding 1
    assert gradcheck(to_one, (x, w)) and gradgradcheck(to_one, (x, w))
    img = torch.randn(2, 1, 9, 9, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    from_one = lambda img, w, b: one_channel._FromOneChannel.apply(img, w, b, (2, 2), (1, 1))
    assert gradcheck(from_one, (img, w, b)) and gradgradcheck(from_one, (img, w, b))


def test_channels_last_in_bf16_autocast_stays_channels_last_and_close_to_nn():
    torch.manual_seed(0)
    cl = torch.channels_last
    plain = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.ConvTranspose2d(16, 1, 4, 2, 1)).to(memory_format=cl)
    twin = swap_in(copy.deepcopy(plain))
    x = torch.randn(8, 1, 28, 28)
    outs = []
    for net in (plain, twin):
        xi = x.clone().requires_grad_()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hidden = net[1](net[0](xi))
            y = net[2](hidden)
        y.float().square().sum().backward()
        outs.append((y, hidden, xi.grad, net[0].weight.grad, net[2].weight.grad))
    (y0, h0, *g0), (y1, h1, *g1) = outs
    assert y1.dtype == y0.dtype == torch.bfloat16 and h1.is_contiguous(memory_format=cl)
    torch.testing.assert_close(y1.float(), y0.float(), atol=0.05, rtol=0.05)
    for a, b in zip(g0, g1):
        assert b.dtype == a.dtype == torch.float32  # the weights' gradients in the weights' dtype
        assert (b - a).norm() <= 0.05 * a.norm()


def test_the_gradient_back_into_a_channels_last_map_is_channels_last():
    """G's last layer hands its gradient to a channels_last net: in that layout, or the layer before reads two."""
    twin = swap_in(nn.Sequential(nn.ConvTranspose2d(16, 1, 4, 2, 1)))[0]
    x = torch.randn(4, 16, 14, 14).contiguous(memory_format=torch.channels_last).requires_grad_()
    hidden = x * 1.0  # not a leaf: its gradient as the layer computed it
    (grad,) = torch.autograd.grad(twin(hidden).square().sum(), hidden)
    assert grad.is_contiguous(memory_format=torch.channels_last) and not grad.is_contiguous()


def test_the_swap_picks_only_one_channel_convolutions_and_keeps_their_tensors():
    picked = [nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Conv2d(1, 16, 4, 2, 1), nn.Conv2d(1, 8, 3, padding=1, bias=False)]
    left = [nn.ConvTranspose2d(16, 3, 4, 2, 1), nn.Conv2d(3, 16, 4, 2, 1), nn.Conv2d(1, 8, 1),  # RGB; 1x1: Pointwise's
            nn.ConvTranspose2d(1, 16, 4, 2, 1), nn.Conv2d(16, 1, 3), nn.Conv2d(1, 8, 3, dilation=2),
            nn.Conv2d(1, 8, 3, padding="same"), nn.Conv2d(1, 8, 3, padding=1, padding_mode="reflect"),
            nn.ConvTranspose2d(4, 1, 4, 2, 1, groups=1, dilation=2)]
    assert [into_one(m) for m in picked] == [True] * 3 and not any(into_one(m) for m in left)
    net = nn.Sequential(*picked, *left)
    tensors = [id(p) for p in net.parameters()]
    keys = list(net.state_dict())
    swap_in(net)
    assert [type(m).__name__ for m in net[:3]] == ["OneChannelConvTranspose2d", "OneChannelConv2d", "OneChannelConv2d"]
    assert [type(m) for m in net[3:]] == [type(m) for m in left]
    assert [id(p) for p in net.parameters()] == tensors and list(net.state_dict()) == keys
    back = as_conv(net[0], nn.ConvTranspose2d)
    assert type(back) is nn.ConvTranspose2d and back.weight is net[0].weight and back.output_padding == (0, 0)


def test_an_unbatched_map_goes_the_nn_way():
    torch.manual_seed(0)
    plain, twin = _pair(nn.ConvTranspose2d(4, 1, 4, 2, 1))
    x = torch.randn(4, 6, 6)
    torch.testing.assert_close(twin(x), plain(x))
    assert twin(x).shape == (1, 12, 12)


def test_the_trainer_swaps_them_in_on_the_cpu_and_saves_plain_weights(tmp_path):
    cfg = TrainConfig.preset("cdcgan", batch_size=8)
    data = torch.rand(32, 1, 28, 28) * 2 - 1
    t = Trainer(cfg, data, device="cpu", labels=torch.arange(32) % 10)
    kinds = {type(m) for net in (t.G, t.D, t.G_ema) for m in net.modules()}
    assert {OneChannelConv2d, OneChannelConvTranspose2d} <= kinds
    t.step(2)
    assert t.error is None
    G, _ = registry.get("cdcgan").build(cfg, 1, 28)  # the plain network takes the trained weights as they are
    G.load_state_dict(t.G.state_dict())
    G.eval(), t.G.eval()
    z = torch.randn(4, cfg.z_dim)
    y = torch.arange(4)
    with torch.no_grad():
        torch.testing.assert_close(t.G(z, y), G(z, y), atol=1e-5, rtol=1e-4)


def test_each_input_takes_the_path_the_module_says(monkeypatch):
    """The twins compute nn's numbers by design, so comparing numbers cannot tell which path ran: the Functions are
    watched instead. A batched CPU map goes through them (a convolution's only where its image asks a gradient:
    G's turn, R1); an unbatched map, or an image asking none (D's turn), is nn's."""
    calls = {"to": [], "from": []}
    for name, cls in (("to", one_channel._ToOneChannel), ("from", one_channel._FromOneChannel)):
        real = cls.apply
        monkeypatch.setattr(cls, "apply", staticmethod(lambda *a, real=real, seen=calls[name]: seen.append(a) or real(*a)))
    conv = swap_in(nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1)))[0]
    image = torch.randn(2, 1, 12, 12)
    conv(image)
    conv(image[0].requires_grad_())
    assert calls == {"to": [], "from": []}
    conv(image.requires_grad_())
    assert len(calls["from"]) == 1 and calls["to"] == []
    up = swap_in(nn.Sequential(nn.ConvTranspose2d(8, 1, 4, 2, 1)))[0]
    up(torch.randn(8, 6, 6))
    assert calls["to"] == []
    assert up(torch.randn(2, 8, 6, 6)).shape == (2, 1, 12, 12) and calls["to"][-1][-1] == (12, 12)
    # an output size asked for (one more row and column: output padding 1) reaches the scatter
    assert up(torch.randn(2, 8, 6, 6), output_size=(13, 13)).shape == (2, 1, 13, 13)
    assert calls["to"][-1][-1] == (13, 13) and len(calls["to"]) == 2


@pytest.mark.parametrize("frozen", ["weight", "bias", "input"])
def test_a_frozen_tensor_gets_no_gradient_and_the_others_get_nns(frozen):
    """A training step does not always ask every gradient: a G step may freeze D's weights and still need the
    image's gradient through them, a fine-tune may freeze a layer's weight and train its bias. Each gradient the
    twins give comes from its own flag, and each must be nn's."""
    torch.manual_seed(0)
    layers = [(nn.ConvTranspose2d(8, 1, 4, 2, 1).double(), torch.randn(3, 8, 6, 6, dtype=torch.float64)),
              (nn.Conv2d(1, 8, 4, 2, 1).double(), torch.randn(3, 1, 12, 12, dtype=torch.float64))]
    for plain, x in layers:
        if frozen == "input" and isinstance(plain, nn.Conv2d):
            continue  # a one-channel image asking no gradient is nn's own convolution (tested above)
        plain, twin = _pair(plain)
        answers = []
        for net in (plain, twin):
            if frozen != "input":
                getattr(net, frozen).requires_grad_(False)
            xi = x.clone().requires_grad_(frozen != "input")
            asked = [t for t in (xi, net.weight, net.bias) if t.requires_grad]
            y = net(xi)
            answers.append([y, *torch.autograd.grad((y * torch.cos(y)).sum(), asked)])
        assert len(answers[1]) == 3
        for want, got in zip(*answers):
            torch.testing.assert_close(got, want)


def test_an_unbatched_map_keeps_the_output_size_it_asks_for():
    torch.manual_seed(0)
    plain, twin = _pair(nn.ConvTranspose2d(4, 1, 4, 2, 1))
    x = torch.randn(4, 6, 6)
    torch.testing.assert_close(twin(x, output_size=(13, 13)), plain(x, output_size=(13, 13)))
    assert twin(x, output_size=(13, 13)).shape == (1, 13, 13)

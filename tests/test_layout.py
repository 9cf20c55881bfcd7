"""gan_core.layout: a channels_last net's flatten hands its gradient back channels_last, and nothing else changes."""
import copy

import torch

from gan_core import losses
from gan_core.config import TrainConfig
from gan_core.layout import Flatten, keep_channels_last
from gan_core.models import DCGANDiscriminator28
from gan_core.training import Trainer


def test_flatten_hands_a_channels_last_map_its_gradient_channels_last():
    x = torch.randn(4, 6, 7, 7).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = Flatten()(x)
    assert torch.equal(y, torch.nn.Flatten()(x.detach()))  # nn.Flatten's features in nn.Flatten's order
    g = torch.randn_like(y)
    y.backward(g)
    assert x.grad.is_contiguous(memory_format=torch.channels_last) and torch.equal(x.grad, g.view(4, 6, 7, 7))
    nchw = torch.randn(2, 3, 4, 4, requires_grad=True)
    Flatten()(nchw).sum().backward()  # a map in the default layout: a plain flatten
    assert nchw.grad.is_contiguous()


def test_a_channels_last_critics_gradient_penalty_is_the_same_through_flatten():
    """WGAN-GP differentiates D's input gradient again: the flatten's backward must be differentiable too."""
    torch.manual_seed(0)
    plain = DCGANDiscriminator28(width=4, norm="none", hidden=8).to(memory_format=torch.channels_last)
    D = keep_channels_last(copy.deepcopy(plain))
    assert [type(m) for m in D.modules() if isinstance(m, torch.nn.Flatten)] == [Flatten]
    assert [type(m) for m in plain.modules() if isinstance(m, torch.nn.Flatten)] == [torch.nn.Flatten]
    real = torch.randn(5, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    fake = torch.randn(5, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    eps = torch.rand(5)
    for net in (D, plain):
        losses.gradient_penalty(net, real, fake, eps=eps).backward()
    for (name, a), b in zip(D.named_parameters(), plain.parameters()):
        # a piecewise-linear net's input gradient does not depend on its biases: only the weights get one
        if name.endswith("weight"):
            assert a.grad.abs().sum() > 0
            torch.testing.assert_close(a.grad, b.grad)
        else:
            assert (a.grad is None or not a.grad.any()) and (b.grad is None or not b.grad.any())


def test_the_trainer_swaps_the_flatten_where_it_trains_channels_last():
    data, labels = torch.rand(128, 1, 28, 28) * 2 - 1, torch.arange(128) % 10
    flats = {}
    for cl in (True, False):
        t = Trainer(TrainConfig.preset("cdcgan", channels_last=cl, batch_size=16), data, labels=labels)
        flats[cl] = [type(m) for m in t.D.modules() if isinstance(m, torch.nn.Flatten)]
        t.step(1)
    assert flats == {True: [Flatten], False: [torch.nn.Flatten]}

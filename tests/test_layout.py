"""gan_core.layout: a channels_last net's flatten hands its gradient back channels_last, its 1x1 convolutions give
channels_last output, its batch norms of few channels go through NCHW, and nothing else changes."""
import copy

import torch
from torch import nn

from gan_core import layout, losses
from gan_core.config import TrainConfig
from gan_core.layout import Flatten, NarrowBatchNorm, Pointwise, keep_channels_last
from gan_core.models import DCGANDiscriminator28
from gan_core.progressive import ProgressiveDiscriminator
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


def test_a_pointwise_convolution_is_the_1x1_convolution_with_channels_last_output():
    torch.manual_seed(0)
    for c_in, c_out, bias in ((1, 8, True), (8, 1, True), (6, 4, False)):
        conv = torch.nn.Conv2d(c_in, c_out, 1, bias=bias)
        pw = keep_channels_last(torch.nn.Sequential(copy.deepcopy(conv)))[0]
        assert type(pw) is Pointwise and isinstance(pw, torch.nn.Conv2d)
        for x in (torch.randn(3, c_in, 5, 6), torch.randn(3, c_in, 5, 6).contiguous(memory_format=torch.channels_last)):
            x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
            y1, y2 = conv(x1), pw(x2)
            torch.testing.assert_close(y2, y1)
            assert c_out == 1 or y2.is_contiguous(memory_format=torch.channels_last) and not y2.is_contiguous()
            g = torch.randn_like(y1)
            y1.backward(g)
            y2.backward(g)
            torch.testing.assert_close(x2.grad, x1.grad)
            for a, b in zip(pw.parameters(), conv.parameters()):
                torch.testing.assert_close(a.grad, b.grad)
                a.grad = b.grad = None
        torch.testing.assert_close(pw(x[0]), conv(x[0]))  # an unbatched map, as nn.Conv2d takes it


def test_only_plain_1x1_convolutions_become_pointwise_and_keep_their_tensors():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 1), torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Conv2d(4, 4, 1, stride=2),
                              torch.nn.Conv2d(4, 4, 1, padding=1), torch.nn.Conv2d(4, 4, 1, groups=2),
                              torch.nn.Conv2d(4, 2, 1, bias=False), torch.nn.Conv2d(2, 4, 1, padding="valid")).eval()
    before = net.state_dict()
    weights = [m.weight for m in net]
    keep_channels_last(net)
    assert [type(m).__name__ for m in net] == ["Pointwise", "Conv2d", "Conv2d", "Conv2d", "Conv2d", "Pointwise", "Pointwise"]
    assert [m.weight for m in net] == weights and net[-2].bias is None and not net[0].training
    assert list(net.state_dict()) == list(before)  # what is saved is named as before


def test_a_progressive_ds_first_layer_keeps_a_one_channel_image_channels_last():
    """The bug Pointwise fixes: oneDNN's 1x1 convolution of a one-channel map gave NCHW, the rest of D channels_last."""
    D = ProgressiveDiscriminator(width=8).to(memory_format=torch.channels_last)
    image = torch.randn(2, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    assert not D.from_img[2](image).is_contiguous(memory_format=torch.channels_last)  # nn.Conv2d's own choice
    keep_channels_last(D)
    h = D.from_img[2](image)
    assert h.is_contiguous(memory_format=torch.channels_last) and not h.is_contiguous()


def test_a_narrow_batch_norm_is_the_batch_norm_with_channels_last_output():
    torch.manual_seed(0)
    norm = torch.nn.BatchNorm2d(8)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5), norm.bias.uniform_(-0.5, 0.5)
    narrow = keep_channels_last(torch.nn.Sequential(copy.deepcopy(norm)))[0]
    assert type(narrow) is NarrowBatchNorm
    for step in range(2):  # training: batch statistics, and the running ones updated alike
        x = (torch.randn(6, 8, 5, 5) * 3 + 1).contiguous(memory_format=torch.channels_last)
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        y1, y2 = norm(x1), narrow(x2)
        torch.testing.assert_close(y2, y1)
        assert y2.is_contiguous(memory_format=torch.channels_last) and not y2.is_contiguous()
        g = torch.randn_like(y1)
        y1.backward(g)
        y2.backward(g)
        torch.testing.assert_close(x2.grad, x1.grad)
        torch.testing.assert_close(narrow.weight.grad, norm.weight.grad)
        torch.testing.assert_close(narrow.bias.grad, norm.bias.grad)
        torch.testing.assert_close(narrow.running_mean, norm.running_mean)
        torch.testing.assert_close(narrow.running_var, norm.running_var)
        assert int(narrow.num_batches_tracked) == step + 1
    norm.eval(), narrow.eval()
    torch.testing.assert_close(narrow(x), norm(x))  # eval: the running statistics
    nchw = torch.randn(2, 8, 3, 3)
    assert narrow(nchw).is_contiguous()  # a map in the default layout: the plain norm


def test_only_batch_norms_under_16_channels_are_narrow_and_keep_their_tensors():
    net = torch.nn.Sequential(torch.nn.BatchNorm2d(8), torch.nn.BatchNorm2d(15, eps=1e-3, momentum=0.3), torch.nn.BatchNorm2d(16),
                              torch.nn.BatchNorm2d(48), torch.nn.BatchNorm1d(8), torch.nn.BatchNorm2d(4, affine=False),
                              torch.nn.BatchNorm2d(8, track_running_stats=False)).eval()
    before = net.state_dict()
    tensors = [[*m.parameters(), *m.buffers()] for m in net]
    keep_channels_last(net)
    assert [type(m).__name__ for m in net] == ["NarrowBatchNorm", "NarrowBatchNorm", "BatchNorm2d", "BatchNorm2d",
                                               "BatchNorm1d", "NarrowBatchNorm", "NarrowBatchNorm"]
    assert all(a is b for m, ts in zip(net, tensors) for a, b in zip([*m.parameters(), *m.buffers()], ts, strict=True))
    assert not net[0].training and net[5].weight is None and net[6].running_mean is None
    assert list(net.state_dict()) == list(before)  # what is saved is named as before
    assert net[1].eps == 1e-3 and net[1].momentum == 0.3  # the norm's own settings, not the defaults
    assert [m.affine for m in net] == [True] * 5 + [False, True]  # as the norm says of itself (its repr)


def test_the_trainer_normalises_progressive_growings_28x28_maps_through_nchw():
    data = torch.rand(64, 1, 28, 28) * 2 - 1
    for cl in (True, False):
        t = Trainer(TrainConfig.preset("progressive", channels_last=cl, batch_size=8), data)
        kinds = {type(m) for m in t.G.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.num_features < 16}
        assert kinds == ({NarrowBatchNorm} if cl else {torch.nn.BatchNorm2d})
        assert {type(m) for m in t.G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.num_features < 16} == kinds


def test_only_a_channels_last_map_flattened_whole_takes_the_layout_keeping_path(monkeypatch):
    """Flatten computes nn.Flatten's numbers either way, so the Function is watched: a 4-D channels_last map
    flattened from dim 1 to the end goes through it; NCHW maps, maps that are both layouts at once (one channel, or
    1x1), other dims and unbatched maps are nn's."""
    seen = []
    real = layout._FlattenKeepingLayout.apply
    monkeypatch.setattr(layout._FlattenKeepingLayout, "apply", staticmethod(lambda x: seen.append(x.shape) or real(x)))
    cl = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    assert Flatten()(cl).shape == (2, 60) and seen == [(2, 3, 4, 5)]
    for x, flatten in ((cl.contiguous(), Flatten()), (torch.randn(2, 1, 4, 5), Flatten()),
                       (torch.randn(2, 3, 1, 1).contiguous(memory_format=torch.channels_last), Flatten()),
                       (cl, Flatten(2)), (cl, Flatten(1, 2)), (torch.randn(3, 4, 5), Flatten())):
        assert torch.equal(flatten(x), nn.Flatten(flatten.start_dim, flatten.end_dim)(x))
    assert len(seen) == 1


def test_as_conv_keeps_every_setting_a_convolution_computes_with():
    """as_conv builds the twin on the meta device and hands it the layer's own tensors: a setting it forgot (groups,
    dilation, a padding mode, the output padding) would compute another convolution with the same weights."""
    torch.manual_seed(0)
    layers = [nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, padding_mode="reflect"),
              nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False, padding_mode="circular"),
              nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)]
    x = torch.randn(2, 4, 9, 9)
    for conv in layers:
        twin = layout.as_conv(conv, type(conv))
        assert twin.weight is conv.weight and twin.bias is conv.bias
        assert repr(twin) == repr(conv)
        torch.testing.assert_close(twin(x), conv(x), rtol=0, atol=0)
        assert layout.as_conv(conv.eval(), type(conv)).training is False


def test_a_flatten_of_some_dims_stays_that_flatten():
    """keep_channels_last swaps every nn.Flatten; one that keeps the last dims (start 1, end 2) flattens only those."""
    net = keep_channels_last(torch.nn.Sequential(torch.nn.Flatten(1, 2)))
    assert type(net[0]) is Flatten and (net[0].start_dim, net[0].end_dim) == (1, 2)
    x = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    assert net(x).shape == (2, 12, 5)

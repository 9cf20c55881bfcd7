"""Style losses with hand-computed answers: per-layer style weights, one-directional total variation,
the copy-free Gram view, AdaIN's statistics (its eps included), and a Gatys step's loss terms, pixel
clamp and best-image bookkeeping."""
import math

import pytest
import torch
import torch.nn.functional as F

from gan_core.style import (GatysConfig, GatysTransfer, StyleModels, _mean_std, _pixels_by_channels, adain,
                            content_loss, gram, style_loss, tv_loss)


@pytest.fixture(scope="module")
def encoder():
    return StyleModels.load("cpu").encoder


def test_gram_view_is_copy_free_for_both_layouts():
    f = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    m, hwc = _pixels_by_channels(f)
    assert not hwc and m.shape == (2, 3, 20) and m.data_ptr() == f.data_ptr()
    cl = f.contiguous(memory_format=torch.channels_last)
    m, hwc = _pixels_by_channels(cl)
    assert hwc and m.shape == (2, 20, 3) and m.data_ptr() == cl.data_ptr()
    assert torch.equal(m, f.permute(0, 2, 3, 1).reshape(2, 20, 3))
    assert torch.allclose(gram(cl), gram(f))
    one = torch.ones(1, 3, 1, 1)  # 1x1 pixels: contiguous in both layouts; read as NCHW
    assert _pixels_by_channels(one)[1] is False


def test_gram_of_a_non_square_map_divides_by_c_h_w():
    f = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]]).reshape(1, 2, 1, 3)
    want = torch.tensor([[5.0, 2.0], [2.0, 10.0]]) / 6
    assert torch.allclose(gram(f)[0], want)
    assert torch.allclose(gram(f.contiguous(memory_format=torch.channels_last))[0], want)


def test_content_and_style_loss_weigh_each_layer():
    a, b = torch.zeros(1, 2, 2, 2), torch.full((1, 2, 2, 2), 2.0)
    assert content_loss(b, a) == pytest.approx(4.0) and content_loss(a, b) == pytest.approx(4.0)
    feats = {"x": b, "y": a}
    targets = {"x": torch.zeros(1, 2, 2), "y": torch.ones(1, 2, 2)}
    # gram(b) = 4 * 4 / (2 * 4) = 2 everywhere -> mse 4; gram(a) = 0 vs 1 -> mse 1
    assert style_loss(feats, targets, {"x": 1.0, "y": 0.0}) == pytest.approx(4.0)
    assert style_loss(feats, targets, {"x": 0.5, "y": 3.0}) == pytest.approx(2.0 + 3.0)
    assert style_loss(feats, targets, {"y": 1.0}) == pytest.approx(1.0)  # only the layers weighed count


def test_tv_loss_counts_vertical_and_horizontal_steps_separately():
    rows = torch.arange(4.0)[:, None].expand(4, 5).reshape(1, 1, 4, 5)  # steps of 1 down, none across
    assert tv_loss(rows) == pytest.approx(1.0)
    assert tv_loss(rows.transpose(2, 3)) == pytest.approx(1.0)  # steps across only
    ramp = (torch.arange(4.0)[:, None] + 2 * torch.arange(5.0)[None, :]).reshape(1, 1, 4, 5)
    assert tv_loss(ramp) == pytest.approx(1.0 + 4.0)  # squared steps: 1 down, 2 across


def test_mean_std_uses_the_biased_variance_plus_eps():
    f = torch.tensor([1.0, 3.0, 1.0, 3.0, 5.0, 5.0, 5.0, 5.0]).reshape(1, 2, 2, 2)
    m, s = _mean_std(f)
    assert m.shape == s.shape == (1, 2, 1, 1)
    assert torch.allclose(m.flatten(), torch.tensor([2.0, 5.0]))
    assert torch.allclose(s.flatten(), torch.tensor([math.sqrt(1 + 1e-5), math.sqrt(1e-5)]))
    m2, s2 = _mean_std(torch.randn(3, 4, 5, 6))
    assert m2.shape == s2.shape == (3, 4, 1, 1)


def test_adain_is_normalise_then_restyle():
    g = torch.Generator().manual_seed(0)
    fc, fs = torch.randn(2, 3, 4, 5, generator=g) * 2 + 1, torch.randn(2, 3, 6, 2, generator=g) - 3
    cm, cs = _mean_std(fc)
    sm, ss = _mean_std(fs)
    assert torch.allclose(adain(fc, fs), (fc - cm) / cs * ss + sm)
    assert torch.allclose(adain(fc, fc), fc, atol=1e-5)  # its own statistics: unchanged


@pytest.fixture(scope="module")
def tiny_pair():
    g = torch.Generator().manual_seed(1)
    return torch.rand(1, 3, 16, 16, generator=g), torch.rand(1, 3, 16, 16, generator=g)


def test_gatys_losses_are_the_weighted_terms(encoder, tiny_pair):
    content, style = tiny_pair
    cfg = GatysConfig(content_weight=2.0, style_weight=3.0, tv_weight=5.0, precision="fp32",
                      content_layer="relu2_1", style_layers={"relu1_1": 1.0, "relu2_1": 0.5})
    run = GatysTransfer(encoder, content, style, cfg)
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    c, s, tv = run.losses(x)
    feats = encoder(x, ["relu1_1", "relu2_1"])
    want_c = 2.0 * F.mse_loss(feats["relu2_1"], encoder(content, ["relu2_1"])["relu2_1"])
    targets = {n: gram(f) for n, f in encoder(style, ["relu1_1", "relu2_1"]).items()}
    want_s = 3.0 * (F.mse_loss(gram(feats["relu1_1"]), targets["relu1_1"])
                    + 0.5 * F.mse_loss(gram(feats["relu2_1"]), targets["relu2_1"]))
    assert c.item() == pytest.approx(want_c.item(), rel=1e-4)
    assert s.item() == pytest.approx(want_s.item(), rel=1e-4)
    assert tv.item() == pytest.approx(5.0 * tv_loss(x).item(), rel=1e-5)


def test_gatys_closure_clamps_first_and_keeps_the_best_image(encoder, tiny_pair):
    content, style = tiny_pair
    run = GatysTransfer(encoder, content, style, GatysConfig(precision="fp32", optimizer="adam", tv_weight=1e4))
    with torch.no_grad():
        run.x.copy_(content * 3 - 1)  # pixels in [-1, 2]
    total = run._closure()
    assert run.x.min() >= 0 and run.x.max() <= 1  # clamped before the loss is taken
    assert torch.equal(run.best, run.x.detach())  # the first loss is the best so far: this x
    assert run.best_loss == pytest.approx(total.item()) and run._last[3] == pytest.approx(total.item())
    assert total.item() == pytest.approx(sum(run._last[:3]), rel=1e-6)  # content + style + variation
    assert run._last[:3] == pytest.approx([t.item() for t in run.losses(run.x)], rel=1e-5)
    assert run.x.grad is not None and run.x.grad.abs().sum() > 0  # the gradient of this loss, for the optimiser
    kept = run.best.clone()
    with torch.no_grad():
        run.x.copy_(((torch.arange(16)[:, None] + torch.arange(16)) % 2).float().expand(1, 3, 16, 16))  # a checkerboard: far worse TV
    worse = run._closure().item()
    assert worse > run.best_loss and torch.equal(run.best, kept)  # a worse step does not replace the best

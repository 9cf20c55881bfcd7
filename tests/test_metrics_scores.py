"""The digit scores on hand-made inputs whose answer is known: covariance, Frechet distance on
non-commuting covariances, precision/recall radii, score thresholds and the collapse alert's bounds."""
import numpy as np
import pytest
import torch

from gan_core import metrics


def test_gaussian_stats_is_the_unbiased_sample_covariance():
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [2.0, 5.0]], dtype=torch.float64)
    mu, s = metrics.gaussian_stats(x)
    assert torch.allclose(mu, torch.tensor([2.0, 7 / 3], dtype=torch.float64))
    assert torch.allclose(s, torch.from_numpy(np.cov(x.numpy(), rowvar=False)))


def test_frechet_distance_on_non_commuting_covariances():
    """Tr((S1 S2)^1/2) is the sum of the square roots of S1 S2's eigenvalues: an independent check."""
    s1 = torch.tensor([[0.5, 0.2], [0.2, 0.3]], dtype=torch.float64)
    s2 = torch.tensor([[2.0, -0.7], [-0.7, 0.6]], dtype=torch.float64)
    mu1, mu2 = torch.tensor([0.1, -0.2], dtype=torch.float64), torch.tensor([0.4, 0.2], dtype=torch.float64)
    cross = np.sqrt(np.linalg.eigvals(s1.numpy() @ s2.numpy()).real).sum()
    want = 0.25 + float(s1.trace() + s2.trace()) - 2 * cross  # |mu1 - mu2|^2 = 0.09 + 0.16
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, abs=1e-10)
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(want, abs=1e-10)  # symmetric


def test_frechet_distance_ignores_tiny_negative_eigenvalues():
    """A singular covariance (fewer samples than features) has eigenvalues of -1e-17: no NaN from them."""
    s = torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64) * 0.5  # rank 1
    z = torch.zeros(2, dtype=torch.float64)
    d = metrics.frechet_distance(z, s, z, s)
    assert d == pytest.approx(0.0, abs=1e-7)


def test_precision_recall_radius_is_the_kth_neighbour_inclusive():
    """1-D points. With k=1 every point's radius is the distance to its nearest other point (not itself),
    and a point exactly on a ball's edge is inside (<=)."""
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])  # radii 1, 1, 1, 1
    fake = torch.tensor([[4.0], [5.0], [20.0], [21.0]])  # radii 1, 1, 1, 1
    pr = metrics.precision_recall(real, fake, k=1)
    assert pr["precision"] == 0.25  # fake 4 is on the edge of real 3's ball; 5, 20, 21 are out
    assert pr["recall"] == 0.25  # real 3 is on the edge of fake 4's ball; 0, 1, 2 are out
    # k=2: real radii 2, 1, 1, 2 (the 2nd nearest); fake 5 is 2 from real 3: now on its edge
    assert metrics.precision_recall(real, fake, k=2)["precision"] == 0.5
    assert metrics.precision_recall(real, real, k=3) == {"precision": 1.0, "recall": 1.0}  # 4 points, k=3 is allowed
    with pytest.raises(ValueError):
        metrics.precision_recall(real, real[:3], k=3)  # the smaller set decides


def _probs(rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_scores_from_features_counts_and_thresholds():
    # 4 samples: digits 0, 0, 3, 7; confidences 0.9 (exactly the default threshold), 0.95, 0.5, 0.89
    p = torch.full((4, 10), 0.0)
    for i, (digit, conf) in enumerate([(0, 0.9), (0, 0.95), (3, 0.5), (7, 0.89)]):
        p[i] = (1 - conf) / 9
        p[i, digit] = conf
    s = metrics.scores_from_features(torch.zeros(1, 128, dtype=torch.float64), p[:1])  # one sample: no Frechet distance
    assert "frechet" not in s and s["n"] == 1 and s["confident_share"] == 1.0  # p >= 0.9 counts
    s = metrics.scores_from_features(torch.randn(4, 128, dtype=torch.float64), p)
    assert s["n"] == 4 and s["confident_share"] == 0.5
    assert s["class_share"] == [0.5, 0, 0, 0.25, 0, 0, 0, 0.25, 0, 0]
    assert s["classes_covered"] == 3 and s["min_class_share"] == 0.0 and s["max_class_share"] == 0.5
    assert s["frechet"] > 0 and np.isfinite(s["frechet"])
    strict = metrics.scores_from_features(torch.randn(4, 128, dtype=torch.float64), p, confidence=0.95, coverage_min=0.3)
    assert strict["confident_share"] == 0.25 and strict["classes_covered"] == 1
    assert metrics.scores_from_features(torch.randn(4, 128, dtype=torch.float64), p, coverage_min=0.25)["classes_covered"] == 3  # >=


def test_class_share_is_rounded_to_four_places():
    p = torch.zeros(3, 10)
    p[:2, 1], p[2, 2] = 1.0, 1.0
    assert metrics.scores_from_features(torch.zeros(1, 128, dtype=torch.float64), p[:1])["class_share"][1] == 1.0
    assert metrics.scores_from_features(torch.randn(3, 128, dtype=torch.float64), p)["class_share"][1:3] == [0.6667, 0.3333]


def test_score_features_accepts_only_single_channel_28px_batches():
    feats, probs = metrics.score_features(torch.zeros(2, 1, 28, 28))
    assert feats.shape == (2, 128) and probs.shape == (2, 10) and torch.allclose(probs.sum(1), torch.ones(2))
    for bad in (torch.zeros(1, 28, 28), torch.zeros(2, 1, 28, 27)):
        with pytest.raises(ValueError, match=r"\(N,1,28,28\)"):
            metrics.score_features(bad)


def test_collapse_alert_bounds():
    share = [0.1] * 10
    ok = {"class_share": share, "classes_covered": 8, "max_class_share": 0.3}  # at both limits: no alert
    assert metrics.mode_collapse_warning(ok) is None
    few = metrics.mode_collapse_warning({**ok, "classes_covered": 7})
    assert few.code == "metrics.collapse" and few.params == {"covered": 7}
    skew = [0.05] * 10
    skew[9] = 0.31
    risk = metrics.mode_collapse_warning({"class_share": skew, "classes_covered": 10, "max_class_share": 0.31})
    assert risk.code == "metrics.collapse_risk" and risk.params == {"digit": 9, "share": 0.31}
    assert metrics.mode_collapse_warning(ok, coverage_min=9).code == "metrics.collapse"
    assert metrics.mode_collapse_warning(ok, dominant=0.2).params["digit"] == 0  # the first of the largest


def test_classifier_forward_is_the_head_on_the_body():
    clf = metrics.load_classifier()
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        logits = clf(x)
        feats, probs = clf.features_and_probs(x)
    assert logits.shape == (3, 10) and torch.allclose(logits.softmax(1), probs, atol=1e-6)
    assert torch.allclose(feats.float(), clf.body(x), atol=1e-6)


def test_a_freshly_built_classifier_matches_the_checkpoint():
    """load_classifier() is cached for the process: this builds one anew, from its config and weights,
    and checks the defaults are the checkpoint's architecture (conv32-conv64-fc128-fc10)."""
    from gan_core.hub import load_model
    fresh = load_model(metrics.CLASSIFIER_DIR, expect=metrics.DigitClassifier)
    default = metrics.DigitClassifier()
    assert {k: v.shape for k, v in default.state_dict().items()} == {k: v.shape for k, v in fresh.state_dict().items()}
    assert fresh.head[0].p == 0.3  # the dropout it was trained with (only active in training mode)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(fresh(x), metrics.load_classifier()(x), atol=1e-6)
    fresh.train()
    torch.manual_seed(0)
    with torch.no_grad():
        a = fresh(x)
    assert not torch.allclose(a, fresh.eval()(x))  # dropout is on in training mode: the head's first layer


def test_score_digits_passes_its_thresholds_on():
    from gan_core.data import mnist_tensor
    x = mnist_tensor("test")[:20]
    feats, probs = metrics.score_features(x)
    strict = metrics.score_digits(x, confidence=1.01, coverage_min=0.5)  # nothing that sure, no digit that common
    assert strict == metrics.scores_from_features(feats, probs, 1.01, 0.5)
    assert strict["confident_share"] == 0.0 and strict["classes_covered"] == 0
    loose = metrics.score_digits(x)
    assert loose == metrics.scores_from_features(feats, probs) and loose["confident_share"] > 0.5
    assert loose["classes_covered"] > 3


def test_two_samples_are_enough_for_a_frechet_distance():
    p = torch.zeros(2, 10)
    p[0, 1], p[1, 2] = 1.0, 1.0
    s = metrics.scores_from_features(torch.randn(2, 128, dtype=torch.float64), p)
    assert "frechet" in s and np.isfinite(s["frechet"])

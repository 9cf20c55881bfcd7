import numpy as np
import pytest
import torch

from gan_core import metrics
from gan_core.data import load_mnist, mnist_tensor


def test_classifier_is_accurate_on_mnist_test():
    clf = metrics.load_classifier()
    x, y = mnist_tensor("test")[:2000], torch.tensor(load_mnist("test")[1][:2000]).long()
    _, probs = clf.features_and_probs(x)
    assert (probs.argmax(1) == y).float().mean() >= 0.985


def test_real_digits_score_high_and_noise_scores_low():
    real = metrics.score_digits(mnist_tensor("test")[:1000])
    assert real["confident_share"] > 0.95 and real["classes_covered"] == 10
    noise = metrics.score_digits(torch.rand(500, 1, 28, 28) * 2 - 1)
    assert noise["frechet"] > 10 * real["frechet"]


def test_real_frechet_picks_training_digits_and_grows_as_samples_shrink():
    """The meter's yardstick: n real digits against the test set. Seeded (the same picks twice), each pick
    a new draw, and fewer samples read farther (a noisier covariance): 200 real digits read more than
    1000 do, so quoting one count's figure beside another's would mislead."""
    few, many = metrics.real_frechet(200, picks=3, seed=1), metrics.real_frechet(1000, picks=3, seed=1)
    assert few == metrics.real_frechet(200, picks=3, seed=1) and len(set(few)) == 3
    assert min(few) > max(many) > 0
    test_half = metrics.score_digits(mnist_tensor("test")[:1000])["frechet"]  # digits the test set itself holds
    assert max(many) < 3 * test_half + 5
    noise = metrics.score_digits(torch.rand(1000, 1, 28, 28) * 2 - 1)["frechet"]
    assert noise > 50 * max(many)
    assert metrics.real_frechet_mean(200, picks=3) == pytest.approx(sum(metrics.real_frechet(200, picks=3)) / 3)


def test_collapsed_batch_is_flagged():
    x, y = mnist_tensor("test"), load_mnist("test")[1]
    ones = x[torch.tensor(np.flatnonzero(y == 1)[:300])]
    s = metrics.score_digits(ones)
    assert s["classes_covered"] == 1 and s["class_share"][1] > 0.95
    warning = metrics.mode_collapse_warning(s)
    assert warning.code == "metrics.collapse" and warning.params == {"covered": 1}
    assert str(warning).startswith("Mode collapse")
    assert metrics.mode_collapse_warning(metrics.score_digits(x[:1000])) is None


def test_dominant_digit_is_a_risk_with_its_share():
    share = [0.05] * 10
    share[3] = 0.55
    s = {"class_share": share, "classes_covered": 10, "max_class_share": 0.55}
    warning = metrics.mode_collapse_warning(s)
    assert warning.code == "metrics.collapse_risk" and warning.params == {"digit": 3, "share": 0.55}
    assert str(warning) == "Mode collapse risk: digit 3 makes up 55% of samples."


def test_frechet_distance_properties():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    mu, s = metrics.gaussian_stats(a)
    assert abs(metrics.frechet_distance(mu, s, mu, s)) < 1e-8
    # shifting the mean by v adds ||v||^2
    assert abs(metrics.frechet_distance(mu + 2, s, mu, s) - 4 * 8) < 1e-6
    # N(0, I) vs N(0, 4I) in 8-d: 8 * (1 + 4 - 2*2) = 8
    i = torch.eye(8, dtype=torch.float64)
    assert abs(metrics.frechet_distance(torch.zeros(8, dtype=torch.float64), i, torch.zeros(8, dtype=torch.float64), 4 * i) - 8) < 1e-8


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(N,1,28,28\)"):
        metrics.score_digits(torch.zeros(4, 3, 28, 28))


def test_precision_recall_separates_fidelity_from_coverage():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(600, 16, generator=g, dtype=torch.float64)
    same = metrics.precision_recall(real, torch.randn(600, 16, generator=g, dtype=torch.float64))
    assert same["precision"] > 0.6 and same["recall"] > 0.6
    far = metrics.precision_recall(real, torch.randn(600, 16, generator=g, dtype=torch.float64) + 10)
    assert far == {"precision": 0.0, "recall": 0.0}
    # mode collapse: every fake sits near a few real points -> looks real, covers little
    collapsed = real[:5].repeat(120, 1) + 0.01 * torch.randn(600, 16, generator=g, dtype=torch.float64)
    pr = metrics.precision_recall(real, collapsed)
    assert pr["precision"] > 0.95 and pr["recall"] < 0.05
    with pytest.raises(ValueError, match="more than 3"):
        metrics.precision_recall(real[:3], real)


def test_the_shipped_reference_is_what_the_files_here_compute():
    """The MNIST-test statistics and the meter's yardstick stored beside the classifier are current
    (made from these weights and MNIST files) and equal what computing them gives now. Fails after a
    retrained classifier or new MNIST files until scripts/write_mnist_reference.py is run."""
    stored = metrics.stored_reference()
    assert stored is not None, "stale or missing: run scripts/write_mnist_reference.py"
    mu, sigma = metrics.computed_test_stats()
    assert torch.allclose(stored["test_mu"], mu, rtol=1e-4, atol=1e-6)
    assert torch.allclose(stored["test_sigma"], sigma, rtol=1e-4, atol=1e-6)
    for n, picks in metrics.YARDSTICKS:
        fresh = metrics.real_frechet(n, picks, test_stats=(mu, sigma))
        assert stored["real_frechet_mean"][f"{n}x{picks}"] == pytest.approx(sum(fresh) / picks, rel=1e-3)
        assert metrics.real_frechet_mean(n, picks) == stored["real_frechet_mean"][f"{n}x{picks}"]
        # the page asks with n alone (ui.train_resources): its default picks must find the stored figure, not
        # compute one for seconds on every server start
        assert metrics.real_frechet_mean(n) == stored["real_frechet_mean"][f"{n}x{picks}"]


def test_the_real_digits_distance_is_to_the_statistics_given():
    """real_frechet and its mean measure against the statistics handed in (write_reference hands in the ones
    it has just computed), not always the stored ones: a reference mean moved by 1 in each of the d features
    adds about d (|a - b - 1|^2 = |a - b|^2 - 2 sum(a - b) + d, and the real digits' mean is near the test set's)."""
    mu, sigma = metrics.mnist_test_stats()
    moved = (mu + 1.0, sigma)
    near, far = metrics.real_frechet(200, 1, seed=2), metrics.real_frechet(200, 1, seed=2, test_stats=moved)
    assert far[0] - near[0] == pytest.approx(mu.numel(), rel=0.1)
    assert metrics.computed_frechet_mean(200, 1, moved) == pytest.approx(metrics.real_frechet(200, 1, test_stats=moved)[0])
    assert metrics.computed_frechet_mean(200, 1) == pytest.approx(metrics.real_frechet(200, 1)[0])


def test_write_reference_stores_what_is_read_back_as_current(tmp_path, monkeypatch):
    """scripts/write_mnist_reference.py's writer: the statistics computed now, the yardsticks measured against
    them (not against the statistics the process holds, which are stale when it runs: after a retrained
    classifier), and the sources they came from, so that stored_reference reads the file back as current."""
    path = tmp_path / "ref.safetensors"
    shipped = metrics.stored_reference()  # computed from these files too (the test above)
    fresh = (shipped["test_mu"], shipped["test_sigma"])
    monkeypatch.setattr(metrics, "mnist_test_stats", lambda: (fresh[0] + 1.0, fresh[1]))  # what a stale file holds
    means = metrics.write_reference(path, yardsticks=((200, 2),))
    assert set(means) == {"200x2"}
    assert means["200x2"] == pytest.approx(sum(metrics.real_frechet(200, 2, test_stats=fresh)) / 2, rel=1e-3)
    metrics.stored_reference.cache_clear()
    try:
        back = metrics.stored_reference(path)
    finally:
        metrics.stored_reference.cache_clear()
    assert back is not None and back["real_frechet_mean"] == pytest.approx(means)
    assert torch.allclose(back["test_mu"], fresh[0], rtol=1e-4, atol=1e-6)
    assert torch.allclose(back["test_sigma"], fresh[1], rtol=1e-4, atol=1e-6)


def test_a_stale_broken_or_hostile_reference_is_ignored(tmp_path, monkeypatch):
    """Only a file made from the files here is used; anything else reads as no file (the figures are
    then computed), never an exception."""
    import json
    from safetensors.torch import save_file
    good = metrics.stored_reference()
    made_from = json.dumps(metrics.reference_sources())
    yard = json.dumps({"500x4": 15.0})

    def read(tensors=None, **meta):
        path = tmp_path / "ref.safetensors"
        tensors = tensors if tensors is not None else {"test_mu": good["test_mu"], "test_sigma": good["test_sigma"]}
        save_file(tensors, str(path), metadata={"made_from": made_from, "real_frechet_mean": yard, **meta})
        metrics.stored_reference.cache_clear()
        try:
            return metrics.stored_reference(path)
        finally:
            metrics.stored_reference.cache_clear()

    assert read()["real_frechet_mean"] == {"500x4": 15.0}, "a faithful copy is read"
    sources = metrics.reference_sources()
    sources["model.safetensors"] = "0" * 64
    assert read(made_from=json.dumps(sources)) is None, "other classifier weights"
    assert read(made_from="[1, 2]") is None and read(made_from="{") is None
    assert read(real_frechet_mean='{"500x4": "many"}') is None
    assert read({"test_mu": good["test_mu"]}) is None, "no covariance"
    assert read({"test_mu": good["test_mu"], "test_sigma": good["test_sigma"][:10]}) is None, "wrong shape"
    assert read({"test_mu": good["test_mu"], "test_sigma": good["test_sigma"].float()}) is None, "wrong dtype"
    nan = good["test_sigma"].clone()
    nan[3, 3] = float("nan")
    assert read({"test_mu": good["test_mu"], "test_sigma": nan}) is None, "not finite"
    for name, data in (("garbage", b"\x00" * 64), ("huge_header", (2 ** 40).to_bytes(8, "little") + b"{}")):
        (tmp_path / name).write_bytes(data)
        assert metrics.stored_reference(tmp_path / name) is None, name
    assert metrics.stored_reference(tmp_path / "missing") is None


def test_without_a_reference_the_figures_are_computed(monkeypatch):
    """The fallback (a stale file reads as None): the statistics come from the classifier over MNIST
    test, and the yardstick from real digits; a current file's figures are used as they are."""
    shipped = metrics.stored_reference()
    monkeypatch.setattr(metrics, "stored_reference", lambda: None)
    metrics.mnist_test_stats.cache_clear()
    try:
        mu, sigma = metrics.mnist_test_stats()
        assert torch.allclose(mu, shipped["test_mu"], rtol=1e-4, atol=1e-6) and mu is not shipped["test_mu"]
        mu, sigma = torch.zeros(4, dtype=torch.float64), torch.eye(4, dtype=torch.float64)
        stored = {"test_mu": mu, "test_sigma": sigma, "real_frechet_mean": {"200x2": 123.0}}
        monkeypatch.setattr(metrics, "stored_reference", lambda: stored)
        assert metrics.real_frechet_mean(200, 2) == 123.0 and metrics.real_frechet_mean(200, 3) != 123.0
        metrics.mnist_test_stats.cache_clear()
        assert metrics.mnist_test_stats() == (mu, sigma), "a current file's statistics are read, not computed"
    finally:
        metrics.mnist_test_stats.cache_clear()

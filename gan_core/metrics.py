"""Scores for generated digits, from a small CNN trained on MNIST (checkpoints/digit-classifier).

- confident_share: share of samples the classifier calls a digit with p >= 0.9 ("recognizable").
- class_share / classes_covered: per-class histogram of the predicted digits - the mode-collapse
  meter; a collapsed GAN draws one or two digits only.
- frechet: the Frechet distance between Gaussians fitted to the classifier's 128-d features of the
  samples and of MNIST test (FID's formula, with a digit network instead of Inception).

The MNIST-test statistics and the meter's yardstick ship beside the classifier (REFERENCE_FILE, written
by write_reference) and are used only while the classifier and MNIST files they were computed from are
the ones here: computing them took a fresh server's first visitor ~5 s on 2 cores.
"""
import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .hub import load_model
from .messages import Message
from .models import HUB_KW, register
from huggingface_hub import PyTorchModelHubMixin

CLASSIFIER_DIR = Path(__file__).resolve().parent.parent / "checkpoints" / "digit-classifier"
REFERENCE_FILE = CLASSIFIER_DIR / "mnist_reference.safetensors"
YARDSTICKS = ((500, 4),)  # the (n, picks) of real_frechet_mean stored: the training page's readings


@register
class DigitClassifier(nn.Module, PyTorchModelHubMixin, **HUB_KW):
    """conv32-pool-conv64-pool-fc128-fc10 on 28x28 images in [-1, 1]."""

    def __init__(self, width: int = 32, features: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, features), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(features, 10))

    def forward(self, x):
        return self.head(self.body(x))

    @torch.no_grad()
    def features_and_probs(self, x: torch.Tensor, batch: int = 1000):
        self.eval()
        feats, probs = [], []
        for i in range(0, len(x), batch):
            f = self.body(x[i:i + batch].float())
            feats.append(f)
            probs.append(self.head(f).softmax(1))
        return torch.cat(feats).double(), torch.cat(probs)


@lru_cache(maxsize=1)
def load_classifier(source: str | None = None) -> DigitClassifier:
    return load_model(source or CLASSIFIER_DIR, expect=DigitClassifier)


def gaussian_stats(feats: torch.Tensor):
    mu = feats.mean(0)
    c = feats - mu
    return mu, c.T @ c / (len(feats) - 1)


def frechet_distance(mu1, s1, mu2, s2) -> float:
    """||mu1-mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2), via eigenvalues of S1^1/2 S2 S1^1/2 (symmetric, stable)."""
    ev1, v1 = torch.linalg.eigh(s1)
    r1 = v1 @ torch.diag(ev1.clamp(min=0).sqrt()) @ v1.T
    ev = torch.linalg.eigvalsh(r1 @ s2 @ r1).clamp(min=0)
    return float(((mu1 - mu2) ** 2).sum() + s1.trace() + s2.trace() - 2 * ev.sqrt().sum())


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> dict:
    """Improved precision and recall (Kynkaenniemi et al. 2019) of feature sets (N, D).

    Each set's manifold is the union of balls around its points, radius = distance to the k-th
    nearest neighbour. Precision: share of fake points inside the real manifold ("looks like the
    data"). Recall: share of real points inside the fake manifold ("covers the data"; low under
    mode collapse). FID mixes the two into one number; these keep them apart.
    """
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} points per set")
    real, fake = real.double(), fake.double()

    def radii(x):  # distance to the k-th neighbour, not counting the point itself
        return torch.cdist(x, x).kthvalue(k + 1, dim=1).values

    cross = torch.cdist(fake, real)  # (n_fake, n_real)
    precision = (cross <= radii(real)[None, :]).any(1).double().mean()
    recall = (cross.T <= radii(fake)[None, :]).any(1).double().mean()
    return {"precision": float(precision), "recall": float(recall)}


def computed_test_stats():
    """(mu, sigma) of the classifier's features over the 10k MNIST test digits, computed now."""
    from .data import mnist_tensor
    feats, _ = load_classifier().features_and_probs(mnist_tensor("test"))
    return gaussian_stats(feats)


@lru_cache(maxsize=1)
def mnist_test_stats():
    """computed_test_stats(), read from REFERENCE_FILE where it holds them for these files."""
    stored = stored_reference()
    return (stored["test_mu"], stored["test_sigma"]) if stored else computed_test_stats()


def real_frechet(n: int, picks: int, seed: int = 0, test_stats=None) -> list[float]:
    """What a perfect generator reads on this scale: the Frechet distance of `n` random MNIST training
    digits to the test set, for each of `picks` random picks. It depends on n (fewer samples, a noisier
    covariance, a larger distance), so compare a generator with the real digits at its own sample count."""
    from .data import mnist_tensor
    train, rng = mnist_tensor("train"), torch.Generator().manual_seed(seed)
    return [score_digits(train[torch.randperm(len(train), generator=rng)[:n]], test_stats=test_stats)["frechet"]
            for _ in range(picks)]


def real_frechet_mean(n: int, picks: int = 4) -> float:
    """real_frechet's mean: the meter's "real digits read ~X" (the app keeps it, ui.train_resources);
    read from REFERENCE_FILE where it holds this (n, picks) for these files."""
    stored = stored_reference()
    if stored and f"{n}x{picks}" in stored["real_frechet_mean"]:
        return stored["real_frechet_mean"][f"{n}x{picks}"]
    return computed_frechet_mean(n, picks)


def computed_frechet_mean(n: int, picks: int, test_stats=None) -> float:
    """real_frechet's mean, computed now (to `test_stats`, MNIST test's by default)."""
    values = real_frechet(n, picks, test_stats=test_stats)
    return sum(values) / len(values)


def reference_sources() -> dict:
    """What the stored reference is computed from: the SHA-256 of the classifier's weights and of each
    MNIST file (train digits for the yardstick, test digits for both)."""
    from .data import MNIST_DIR

    def sha256(path):
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    files = [CLASSIFIER_DIR / "model.safetensors", *sorted(MNIST_DIR.glob("*.npz"))]
    return {f.name: sha256(f) for f in files}


@lru_cache(maxsize=1)
def stored_reference(path: Path = REFERENCE_FILE) -> dict | None:
    """The file's test statistics and yardsticks if they were computed from the files here now, else
    None (a missing, corrupt or stale file is ignored: the figures are then computed)."""
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            mu, sigma = f.get_tensor("test_mu"), f.get_tensor("test_sigma")
        if json.loads(meta["made_from"]) != reference_sources():
            return None
        yardsticks = {str(k): float(v) for k, v in json.loads(meta["real_frechet_mean"]).items()}
    except (OSError, KeyError, ValueError, TypeError, AttributeError, SafetensorError):
        return None
    d = mu.shape[0] if mu.ndim == 1 else -1
    if (mu.dtype, sigma.dtype) != (torch.float64,) * 2 or sigma.shape != (d, d) \
            or not (mu.isfinite().all() and sigma.isfinite().all()):
        return None
    return {"test_mu": mu, "test_sigma": sigma, "real_frechet_mean": yardsticks}


def write_reference(path: Path = REFERENCE_FILE, yardsticks=YARDSTICKS) -> dict:
    """Compute the test statistics and the yardsticks from the files here and store them at `path`
    (scripts/train_digit_classifier.py does after training). Returns the yardsticks."""
    from safetensors.torch import save_file
    mu, sigma = computed_test_stats()
    means = {f"{n}x{picks}": computed_frechet_mean(n, picks, (mu, sigma)) for n, picks in yardsticks}
    save_file({"test_mu": mu.contiguous(), "test_sigma": sigma.contiguous()}, str(path),
              metadata={"made_from": json.dumps(reference_sources()), "real_frechet_mean": json.dumps(means)})
    return means


def score_digits(images: torch.Tensor, confidence: float = 0.9, coverage_min: float = 0.05,
                 test_stats=None) -> dict:
    """Scores for (N,1,28,28) images in [-1, 1]. See the module docstring."""
    return scores_from_features(*score_features(images), confidence, coverage_min, test_stats)


def score_features(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The classifier's (features, probabilities) for a batch. A reading can be gathered in parts
    (the training page does, so that no tick holds the shared compute thread for long), then
    scored with scores_from_features() on the concatenation."""
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"digit scores need (N,1,28,28) images, got {tuple(images.shape)}")
    return load_classifier().features_and_probs(images.cpu())


def scores_from_features(feats: torch.Tensor, probs: torch.Tensor, confidence: float = 0.9,
                         coverage_min: float = 0.05, test_stats=None) -> dict:
    """test_stats: the (mu, sigma) the Frechet distance is taken to; MNIST test's by default."""
    pmax, pred = probs.max(1)
    counts = torch.bincount(pred, minlength=10)
    share = (counts.float() / len(probs)).tolist()
    out = {
        "n": len(probs),
        "confident_share": float((pmax >= confidence).float().mean()),
        "class_share": [round(s, 4) for s in share],
        "classes_covered": int(sum(s >= coverage_min for s in share)),
        "min_class_share": float(min(share)),
        "max_class_share": float(max(share)),
    }
    if len(probs) >= 2:
        mu, s = gaussian_stats(feats)
        out["frechet"] = frechet_distance(mu, s, *(test_stats or mnist_test_stats()))
    return out


def mode_collapse_warning(scores: dict, coverage_min: int = 8, dominant: float = 0.3) -> Message | None:
    """A plain-words alert ("metrics.collapse" or "metrics.collapse_risk") when few classes dominate, else None."""
    top = int(np.argmax(scores["class_share"]))
    if scores["classes_covered"] < coverage_min:
        return Message("metrics.collapse", {"covered": int(scores["classes_covered"])})
    if scores["max_class_share"] > dominant:
        return Message("metrics.collapse_risk", {"digit": top, "share": float(scores["max_class_share"])})
    return None


# ---------------------------------------------------------------- blur: what "VAE results are blurry" means in numbers
LAPLACE = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def sharpness(images: torch.Tensor) -> dict:
    """How crisp (N, 1, H, W) images in [-1, 1] are, on pixels in [0, 1]: the variance of each image's
    Laplacian (its edges), and the mean gradient magnitude, both averaged over the images. Blur
    lowers both: a VAE's averaged strokes ramp where a real digit's jump. Compare with real digits."""
    x = (images.float().cpu().clamp(-1, 1) + 1) / 2
    lap = torch.nn.functional.conv2d(x, LAPLACE)
    gx, gy = x[..., :-1, 1:] - x[..., :-1, :-1], x[..., 1:, :-1] - x[..., :-1, :-1]
    return {"laplacian_var": float(lap.flatten(1).var(1).mean()), "gradient": float((gx ** 2 + gy ** 2).sqrt().mean())}


def confidence(images: torch.Tensor, threshold: float = 0.9) -> dict:
    """The digit classifier's certainty on (N, 1, 28, 28) images: its mean top probability, and the
    share of images it calls a digit with p >= threshold (confident_share, as score_digits)."""
    pmax = score_features(images)[1].max(1).values
    return {"confidence": float(pmax.mean()), "confident_share": float((pmax >= threshold).float().mean())}

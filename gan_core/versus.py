"""VAE vs GAN at equal training time: the race the training page and bench/bench_vae_vs_gan.py run,
and what they measure (sharpness and the digit classifier's confidence, next to real MNIST digits).

Equal time, not equal steps: a VAE step is cheaper than a GAN's, and the lesson's claim is about what
each buys in the same minutes. The two trainers take turns in short slices (so a busy machine slows
both alike) until each has trained the same seconds (Trainer.elapsed counts only training).
"""
from functools import lru_cache

import torch

from .metrics import confidence, sharpness


def catch_up(trainer, target_s: float, budget_s: float, chunk: int = 1) -> float:
    """Train `trainer` until it has trained target_s seconds in all, or for at most budget_s now; the
    seconds spent. (Overshoots by at most one chunk of steps.)"""
    start = trainer.elapsed
    while not trainer.error and trainer.elapsed < target_s and trainer.elapsed - start < budget_s:
        trainer.step(chunk)
    return trainer.elapsed - start


def race(trainers, seconds: float, slice_s: float = 0.5) -> None:
    """Each trainer trains `seconds` more, in turns of slice_s: equal training time, fairly interleaved."""
    goal = {id(t): t.elapsed + seconds for t in trainers}
    while any(t.elapsed < goal[id(t)] and not t.error for t in trainers):
        for t in trainers:
            catch_up(t, goal[id(t)], slice_s)


def blur_report(images: torch.Tensor) -> dict:
    """Sharpness and the classifier's confidence of (N, 1, 28, 28) images in [-1, 1]."""
    return {**sharpness(images), **confidence(images)}


@lru_cache(maxsize=2)
def real_report(n: int = 1000) -> dict:
    """The yardstick: the same numbers for n real MNIST test digits."""
    from .data import mnist_tensor
    return blur_report(mnist_tensor("test")[:n])


def compare(generators: dict, n: int, seed: int = 0) -> dict:
    """{name: report} for each generator's n samples (drawn from `seed`: the same reading every time), plus
    "real"; each report has "vs_real": its Laplacian variance over real digits' (1.0 = as sharp as MNIST, lower =
    blurrier)."""
    real = real_report()
    out = {}
    for name, G in generators.items():
        r = blur_report(G.generate(n, seed=seed))
        out[name] = {**r, "vs_real": r["laplacian_var"] / real["laplacian_var"]}
    out["real"] = {**real, "vs_real": 1.0}
    return out

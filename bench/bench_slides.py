"""The slides' FNN GAN, line for line, against the tuned FNN (`mlp`): what each difference buys.

    python bench/bench_slides.py [--steps 3000] [--budget SECONDS] [--seed 0] [--only slides,mlp]

The ladder from the deck's code to the tuned model, one difference at a time:
  slides           the deck's code: leaky_relu 0.01, sigmoid + nn.BCELoss, d_loss / 2, fresh noise for
                   G's turn, shuffled epochs, Adam (default betas) at the preset's lr and batch
  slides+lr        the same, with mlp's optimizer settings: its preset's learning rates and Adam betas
  slides+lr+ema    and mlp's EMA of G's weights (its preset's decay) for the samples
  mlp              the tuned FNN: adds ReLU in G, LeakyReLU 0.2 and logits in D, the fakes reused for
                   G's turn, random batches (its preset's size), bf16, D's real target 0.9
1. Speed: steps/s of every rung, measured in interleaved bursts (rung after rung, `--rounds` times,
   median), so a machine shared with other work slows them all alike and the ratios hold; and training
   pictures/s (steps/s x batch: the same ratio while both take batches of 100).
2. Quality: each rung trains to `--steps` (or for `--budget` seconds of training time, as
   bench_time_to_digits.py), then 2000 samples are scored by the bundled digit classifier.
Prints a table, the mlp-over-slides ratios and one JSON line. One seed: a few points are noise.
For the scale, the same run scores 2000 real training digits (the mean of 8 random picks) and 2000
pictures of uniform noise: the two ends a Frechet distance of 2000 samples can read.
"""
import argparse
import json
import os
import statistics
import time

import torch

from gan_core import registry
from gan_core.data import mnist_tensor
from gan_core.device import describe, get_device
from gan_core.metrics import real_frechet, score_digits
from gan_core.training import TrainConfig, Trainer

N_SAMPLES = 2000
MLP_PRESET = registry.get("mlp").preset
MLP_OPTIMIZER = {k: MLP_PRESET[k] for k in ("lr_g", "lr_d", "beta1", "beta2")}  # the page names them
LADDER = {
    "slides": ("slides", {}),
    "slides+lr": ("slides", MLP_OPTIMIZER),
    "slides+lr+ema": ("slides", dict(MLP_OPTIMIZER, ema=MLP_PRESET["ema"])),
    "mlp": ("mlp", {}),
}


def speeds(trainers: dict, rounds: int, burst: int) -> dict:
    """Median steps/s of each trainer over `rounds` interleaved bursts of `burst` steps (after a warm-up)."""
    times = {name: [] for name in trainers}
    for t in trainers.values():
        t.step(3)
    for _ in range(rounds):
        for name, t in trainers.items():
            t0 = time.perf_counter()
            t.step(burst)
            times[name].append(burst / (time.perf_counter() - t0))
    return {name: statistics.median(v) for name, v in times.items()}


def scale(seed: int, n: int = N_SAMPLES) -> dict:
    """Frechet distances of n real digits (the mean of 8 picks) and of n pictures of uniform noise."""
    real = real_frechet(n, 8, seed)
    noise = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return {"real": round(sum(real) / len(real), 2), "noise": round(score_digits(noise)["frechet"], 1)}


def quality(t: Trainer, steps: int | None, seconds: float | None, seed: int) -> dict:
    t.run(steps=steps, seconds=seconds, chunk=10)
    s = score_digits(t.generator.generate(N_SAMPLES, seed=seed + 1000))
    return {"steps": t.iteration, "train_seconds": round(t.elapsed, 1), "confident_share": round(s["confident_share"], 4),
            "classes_covered": s["classes_covered"], "min_class_share": round(s["min_class_share"], 4),
            "frechet": round(s["frechet"], 2), "error": str(t.error) if t.error else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000, help="train every rung to this many steps")
    ap.add_argument("--budget", type=float, help="instead: this many seconds of training time per rung")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--burst", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", help="comma-separated rungs of the ladder (default: all)")
    ap.add_argument("--threads", type=int, help="torch threads (1 on a machine shared with other work: two threads "
                    "on oversubscribed cores mostly wait for each other)")
    args = ap.parse_args()
    device = get_device()  # sets torch's threads to the CPUs available: --threads goes after it
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = args.only.split(",") if args.only else list(LADDER)
    data = mnist_tensor("train")
    trainers = {name: Trainer(TrainConfig.preset(LADDER[name][0], seed=args.seed, **LADDER[name][1]), data) for name in rows}
    out = {"device": str(describe(device)), "steps": None if args.budget else args.steps, "budget_s": args.budget,
           "seed": args.seed, "threads": torch.get_num_threads(), "load_before": round(os.getloadavg()[0], 2), "steps_per_second": {}, "results": {}}
    for name, v in speeds(trainers, args.rounds, args.burst).items():
        out["steps_per_second"][name] = round(v, 1)
    for name in rows:
        t = trainers[name]
        r = {"model": LADDER[name][0], **LADDER[name][1], "steps_per_second": out["steps_per_second"][name],
             "pictures_per_second": round(out["steps_per_second"][name] * t.cfg.batch_size),
             **quality(t, None if args.budget else args.steps, args.budget, args.seed)}
        out["results"][name] = r
        print(f"{name:14s} {r['steps_per_second']:6.1f} steps/s  at {r['steps']:5d} steps: confident {r['confident_share']:6.1%}  "
              f"classes {r['classes_covered']:2d}/10 (min {r['min_class_share']:.1%})  Frechet {r['frechet']:7.1f}", flush=True)
    out["load_after"] = round(os.getloadavg()[0], 2)
    out["frechet_scale"] = sc = scale(args.seed)
    print(f"the scale: {N_SAMPLES} real digits {sc['real']}, uniform noise {sc['noise']}")
    res = out["results"]
    if "slides" in res and "mlp" in res:
        s, m = res["slides"], res["mlp"]
        out["ratios_mlp_over_slides"] = r = {
            "steps_per_second": round(m["steps_per_second"] / s["steps_per_second"], 2),
            "pictures_per_second": round(m["pictures_per_second"] / s["pictures_per_second"], 2),  # fair where batches differ
            "frechet_slides_over_mlp": round(s["frechet"] / max(m["frechet"], 1e-9), 2),
            "confident_share_points": round(100 * (m["confident_share"] - s["confident_share"]), 1),
        }
        print(f"mlp vs slides: {r['steps_per_second']}x the steps/s, {r['pictures_per_second']}x the pictures/s; "
              f"Frechet {r['frechet_slides_over_mlp']}x lower, {r['confident_share_points']:+} points confident")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Time to recognizable digits: train for a fixed wall-clock budget, then score 2000 samples.

    python bench/bench_time_to_digits.py [--budget 30] [--fnn-budget 60]

Runs in one process, one after another:
  best      the app's default model (gan_core.registry.DEFAULT_MODEL with its preset), `budget` s
  plain     a plain DCGAN as in the PyTorch tutorial (width 64, batch 128, lr 2e-4, fp32), same budget
  fnn       the seed slides' FNN GAN with its preset, `fnn_budget` s
Targets (issue 2): best >= 85% confident (p >= 0.9), every digit >= 5%, Frechet far below plain;
fnn >= 60% confident and all 10 digits. The budget counts training time only (Trainer.elapsed);
model construction and scoring are outside it. Prints a table, the ratios and one JSON line.
"""
import argparse
import json

import torch

from gan_core.data import load_mnist, mnist_tensor
from gan_core.device import describe, get_device
from gan_core.metrics import score_digits
from gan_core.registry import DEFAULT_MODEL
from gan_core.training import TrainConfig, Trainer


def trial(cfg: TrainConfig, data, labels, seconds: float, seed: int) -> dict:
    t = Trainer(cfg, data, labels=labels if cfg.num_classes else None)
    t.run(seconds=seconds, chunk=10)
    s = score_digits(t.generator.generate(2000, seed=seed + 1000))
    return {"steps": t.iteration, "train_seconds": round(t.elapsed, 1), "confident_share": round(s["confident_share"], 4),
            "classes_covered": s["classes_covered"], "min_class_share": round(s["min_class_share"], 4),
            "frechet": round(s["frechet"], 2), "error": t.error}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=30)
    ap.add_argument("--fnn-budget", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    device = get_device()
    data = mnist_tensor("train")
    labels = torch.tensor(load_mnist("train")[1]).long()
    runs = {
        "best": (TrainConfig.preset(DEFAULT_MODEL, seed=args.seed), args.budget),
        "plain_dcgan": (TrainConfig.preset("dcgan", seed=args.seed, width=64, batch_size=128, lr_g=2e-4, lr_d=2e-4,
                                           beta1=0.5, bf16=False, channels_last=False, ema=0.0), args.budget),
        "fnn": (TrainConfig.preset("mlp", seed=args.seed), args.fnn_budget),
    }
    out = {"device": str(describe(device)), "best_model": DEFAULT_MODEL, "results": {}}
    for name, (cfg, budget) in runs.items():
        r = trial(cfg, data, labels, budget, args.seed)
        out["results"][name] = r
        print(f"{name:12s} {budget:4.0f} s  {r['steps']:5d} steps  confident {r['confident_share']:.1%}  "
              f"classes {r['classes_covered']}/10 (min {r['min_class_share']:.1%})  Frechet {r['frechet']:.1f}", flush=True)
    b, p, f = (out["results"][k] for k in ("best", "plain_dcgan", "fnn"))
    out["frechet_ratio_plain_over_best"] = round(p["frechet"] / b["frechet"], 2)
    out["targets_met"] = {
        "best": b["confident_share"] >= 0.85 and b["min_class_share"] >= 0.05,
        "best_vs_plain": b["frechet"] * 3 <= p["frechet"],
        "fnn": f["confident_share"] >= 0.60 and f["classes_covered"] == 10,
    }
    print(f"Frechet ratio plain/best: {out['frechet_ratio_plain_over_best']}x   targets met: {out['targets_met']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Adam's fused kernel against PyTorch's default Adam, per model, in the same process.

    python bench/bench_adam.py [--models mlp,cdcgan] [--rounds 14] [--seconds 1.5]

The Trainer takes Adam's fused kernel where the device has one (gan_core.device.adam). For each
model, two trainers with its preset, one with the default Adam (the baseline), train in
alternating rounds of `seconds` each, which one goes first alternating too: this machine's speed
drifts by 20-30% from one minute to the next, so only rounds side by side compare. Prints each
model's median steps/s, the median of the per-round ratios and how many rounds the fused kernel won,
then one JSON line.
"""
import argparse
import json
import statistics
import time

import torch

from gan_core import registry
from gan_core.data import load_mnist, mnist_tensor
from gan_core.device import describe, get_device
from gan_core.training import TrainConfig, Trainer


def trainer(model: str, fused: bool, data, labels) -> Trainer:
    cfg = TrainConfig.preset(model)
    t = Trainer(cfg, data, labels=labels if cfg.num_classes else None)
    if not fused:  # the baseline: the same optimizer, PyTorch's default implementation
        t.opt_g = torch.optim.Adam(t.G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
        t.opt_d = torch.optim.Adam(t.D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    if bool(t.opt_g.defaults["fused"]) != fused:
        raise SystemExit(f"{model}: the Trainer's Adam is not what this bench compares (fused={fused})")
    t.step(20)  # warm-up: first calls build oneDNN's kernels
    return t


def steps_in(t: Trainer, n: int) -> float:
    t0 = time.perf_counter()
    t.step(n)
    return n / (time.perf_counter() - t0)


def compare(model: str, rounds: int, seconds: float, data, labels) -> dict:
    runs = {False: trainer(model, False, data, labels), True: trainer(model, True, data, labels)}
    n = max(5, round(seconds * steps_in(runs[False], 10)))  # steps per round
    rates = {False: [], True: []}
    for r in range(rounds):
        for fused in ((True, False) if r % 2 else (False, True)):
            rates[fused].append(steps_in(runs[fused], n))
    ratios = [f / d for d, f in zip(rates[False], rates[True])]
    return {"steps_per_round": n, "default_steps_per_s": round(statistics.median(rates[False]), 1),
            "fused_steps_per_s": round(statistics.median(rates[True]), 1), "ratio": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)], "fused_won": sum(x > 1 for x in ratios),
            "rounds": rounds}


def main():
    ap = argparse.ArgumentParser()
    # the models the Trainer gives Adam: not the clipped WGAN (RMSprop, as its paper), nor SGD where a preset asks
    adam_models = [m for m in registry.offered("train", "digits")
                   if registry.get(m).loss != "wgan-clip" and registry.get(m).preset.get("optimizer", "adam") == "adam"]
    ap.add_argument("--models", default=",".join(adam_models))
    ap.add_argument("--rounds", type=int, default=14)
    ap.add_argument("--seconds", type=float, default=1.5)
    args = ap.parse_args()
    data = mnist_tensor("train")
    labels = torch.tensor(load_mnist("train")[1]).long()
    out = {"device": str(describe(get_device())), "threads": torch.get_num_threads(), "models": {}}
    for model in args.models.split(","):
        r = out["models"][model] = compare(model, args.rounds, args.seconds, data, labels)
        print(f"{model:12s} default {r['default_steps_per_s']:7.1f}  fused {r['fused_steps_per_s']:7.1f} steps/s  "
              f"ratio {r['ratio']:.3f} ({r['ratio_range'][0]:.3f} to {r['ratio_range'][1]:.3f}), "
              f"fused faster in {r['fused_won']}/{r['rounds']} rounds", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

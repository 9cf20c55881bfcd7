"""Speed of each image model at each size it takes, on the emoji demo set, and what a class sees after N s.

    python bench/bench_image_models.py [--seconds 6] [--grid-seconds 60] [--grids dcgan:64,face-exercise:32]

Baseline in the same run: the digit DCGAN at 28 px on MNIST (what the training page ran before it
took pictures), so each line reads "this picture model runs at R x the digit run's steps/s".
Each model trains with its registry preset (the page's defaults). Then each --grids model trains on
the demo set for --grid-seconds and its fixed-noise grid goes to docs/img/demo-<model>-<size>-<s>s.png.
Prints one line per measure, then one JSON line.
"""
import argparse
import json
from pathlib import Path

import torch

from gan_core import registry
from gan_core.data import to_uint8
from gan_core.device import describe, get_device
from gan_core.grid import make_grid, to_pil
from gan_core.pipelines import load_training_data
from gan_core.training import TrainConfig, Trainer

IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


def rate(model: str, data: torch.Tensor, seconds: float, labels=None) -> float:
    """Steps per second of the Trainer with the model's preset, after a 3-step warm-up."""
    tr = Trainer(TrainConfig.preset(model), data, labels=labels if registry.get(model).conditional else None)
    tr.step(3)
    e0, n0 = tr.elapsed, tr.iteration
    tr.run(seconds=seconds, chunk=5)
    return (tr.iteration - n0) / (tr.elapsed - e0)


def grid(model: str, size: int, seconds: float, steps: int | None = None) -> dict:
    """Train on the demo set for `seconds` (or exactly `steps`) and save the fixed-noise grid."""
    data = load_training_data("demo", size, 3)
    tr = Trainer(TrainConfig.preset(model), data.images)
    tr.run(steps=steps, seconds=None if steps else seconds, chunk=10)
    seconds = round(tr.elapsed, 1)
    out = IMG / (f"demo-{model}-{size}-{steps}steps.png" if steps else f"demo-{model}-{size}-{int(seconds)}s.png")
    to_pil(make_grid(to_uint8(tr.fixed_samples()[:32]), nrow=8), scale=2 if size < 64 else 1).save(out)
    return {"model": model, "size": size, "seconds": seconds, "steps": tr.iteration, "file": str(out.relative_to(IMG.parent.parent))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--grid-seconds", type=float, default=60.0)
    ap.add_argument("--grids", default="dcgan:64,face-exercise:32", help="model:size pairs to train for the grids")
    ap.add_argument("--grid-steps", type=int, help="train the grids for this many steps instead of --grid-seconds "
                    "(a busy machine: what a quiet one reaches in that time)")
    ap.add_argument("--grids-only", action="store_true", help="skip the speed table")
    args = ap.parse_args()
    torch.manual_seed(0)
    mnist = None if args.grids_only else load_training_data("mnist")
    base = None if args.grids_only else rate("dcgan", mnist.images, args.seconds)
    if base:
        print(f"baseline  dcgan 28 px MNIST (grey)  {base:7.1f} steps/s")
    results = {"device": str(describe(get_device())), "threads": torch.get_num_threads(), "seconds_per_measure": args.seconds,
               "baseline_dcgan_mnist_28": round(base, 2) if base else None, "models": [], "grids": []}
    for model in () if args.grids_only else registry.offered("train", data="images"):
        for size in registry.get(model).sizes:
            data = load_training_data("demo", size, 3)
            r = rate(model, data.images, args.seconds)
            results["models"].append({"model": model, "size": size, "steps_per_s": round(r, 2),
                                      "ratio_to_baseline": round(r / base, 3)})
            print(f"{model:14s} {size:2d} px RGB demo   {r:7.1f} steps/s  ({r / base:.2f} x baseline)")
    for pair in filter(None, args.grids.split(",")):
        model, size = pair.split(":")
        g = grid(model, int(size), args.grid_seconds, args.grid_steps)
        results["grids"].append(g)
        print(f"grid {g['file']}: {g['steps']} steps in {g['seconds']:.0f} s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

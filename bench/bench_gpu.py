"""GPU speed-up of the app's two heavy jobs, training and style transfer: CPU and GPU in the same run.

    python bench/bench_gpu.py [--seconds 10] [--size 256] [--evals 40] [--adain-size 512] [--gpu cuda]

(a) the training page's default model with its preset (batch, width, EMA...) for --seconds on each
    device: steps/s; (b) Gatys at --size px, the style page's defaults: seconds for --evals L-BFGS
    evaluations; (c) AdaIN at --adain-size px: best of 3. Prints GPU/CPU speed ratios and one JSON line.
With no GPU it says so and stops ("gpu": null in the JSON). `--gpu cpu` runs the same code on the
CPU twice (ratios near 1): the test suite uses it to keep this script working on machines without one.
"""
import argparse
import json
import time
from pathlib import Path

import torch
from PIL import Image

from gan_core.data import mnist_tensor
from gan_core.device import describe, get_device
from gan_core.style import GatysConfig, GatysTransfer, StyleModels, resize_long_side, to_tensor
from gan_core.registry import DEFAULT_MODEL
from gan_devkit.train_speed import ours as train_speed

ROOT = Path(__file__).resolve().parent.parent

ASSETS = ROOT / "assets" / "style"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def style_times(device: torch.device, args, content: Image.Image, style: Image.Image) -> dict:
    models, cfg = StyleModels.load(device), GatysConfig(size=args.size)
    c, s = (to_tensor(resize_long_side(im, args.size), device) for im in (content, style))
    GatysTransfer(models.encoder, c, s, cfg).step(2)  # warm-up
    sync(device)
    t0 = time.perf_counter()
    g = GatysTransfer(models.encoder, c, s, cfg)
    g.step(args.evals)
    sync(device)
    gatys_s = time.perf_counter() - t0
    c5, s5 = (to_tensor(resize_long_side(im, args.adain_size), device) for im in (content, style))
    adain, times = models.adain, []
    for _ in range(4):  # the first is a warm-up
        t0 = time.perf_counter()
        adain(c5, s5)
        sync(device)
        times.append(time.perf_counter() - t0)
    return {"gatys_s": round(gatys_s, 3), "gatys_evals": g.step_count, "adain_s": round(min(times[1:]), 4)}


def measure(device: torch.device, args, content, style) -> dict:
    steps_per_s, _ = train_speed(DEFAULT_MODEL, mnist_tensor("train"), args.seconds, device=device)
    out = {"device": str(describe(device)), "train_steps_per_s": round(steps_per_s, 2)}
    out.update(style_times(device, args, content, style))
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="training time per device")
    ap.add_argument("--size", type=int, default=256, help="Gatys image size (long side, px)")
    ap.add_argument("--evals", type=int, default=40, help="Gatys L-BFGS evaluations per device")
    ap.add_argument("--adain-size", type=int, default=512, help="AdaIN image size (long side, px)")
    ap.add_argument("--gpu", default=None, help="cuda / mps (default: whichever is present); cpu: a dry run")
    args = ap.parse_args(argv)
    gpu = args.gpu or ("cuda" if torch.cuda.is_available() else
                       "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else None)
    if gpu is None:
        result = {"bench": "gpu", "gpu": None, "reason": "no CUDA or MPS device on this machine"}
        print("no GPU here: nothing to compare (run this on a machine with CUDA or Apple MPS)")
        print(json.dumps(result))
        return result
    content = Image.open(ASSETS / "content" / "grace_hopper.jpg").convert("RGB")
    style = Image.open(ASSETS / "style" / "starry_night.jpg").convert("RGB")
    cpu = measure(get_device("cpu"), args, content, style)
    acc = measure(get_device(gpu), args, content, style)
    result = {"bench": "gpu", "gpu": acc["device"], "cpu": cpu, "accelerated": acc,
              "speedup_train": round(acc["train_steps_per_s"] / cpu["train_steps_per_s"], 2),
              "speedup_gatys": round(cpu["gatys_s"] / acc["gatys_s"], 2),
              "speedup_adain": round(cpu["adain_s"] / acc["adain_s"], 2)}
    print(f"training ({DEFAULT_MODEL}): {cpu['train_steps_per_s']} -> {acc['train_steps_per_s']} steps/s "
          f"({result['speedup_train']}x); Gatys {args.evals} evals at {args.size} px: {cpu['gatys_s']} -> "
          f"{acc['gatys_s']} s ({result['speedup_gatys']}x); AdaIN {args.adain_size} px: {cpu['adain_s']} -> "
          f"{acc['adain_s']} s ({result['speedup_adain']}x) on {acc['device']} vs {cpu['device']}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

"""Training throughput of each gan_core model against a textbook loop, in the same run.

    python bench/bench_train_speed.py [--seconds 8]

For each model: steps/s of gan_core's Trainer with the app's preset, and of the textbook loop in
gan_devkit/textbook.py (same architecture and batch size, the slides' habits). Prints one line per
model with the ratio, then one JSON line.
"""
import argparse
import json
import time

import torch

from gan_core.data import mnist_tensor
from gan_core.device import describe, get_device
from gan_devkit import textbook
from gan_devkit.train_speed import ours


def baseline(model, cfg, data, seconds):
    torch.manual_seed(0)
    if model == "mlp":
        G, D = textbook.slides_fnn(cfg.z_dim, cfg.width)
        textbook.run_bce(G, D, data, cfg.z_dim, cfg.batch_size, 3, flat=True)
        n, dt = textbook.run_bce(G, D, data, cfg.z_dim, cfg.batch_size, 10**9, flat=True, seconds=seconds)
    elif model in ("dcgan", "cdcgan"):  # cdcgan: the unconditional tutorial loop at the same width/batch
        G, D = textbook.tutorial_dcgan28(cfg.z_dim, cfg.width)
        textbook.run_bce(G, D, data, cfg.z_dim, cfg.batch_size, 3, flat=False)
        n, dt = textbook.run_bce(G, D, data, cfg.z_dim, cfg.batch_size, 10**9, flat=False, seconds=seconds)
    else:  # wgan-gp: textbook critic is the DCGAN one without batch norm or sigmoid
        from gan_core.models import DCGANDiscriminator28, DCGANGenerator28
        G, D = DCGANGenerator28(cfg.z_dim, cfg.width), DCGANDiscriminator28(cfg.width, norm="none")
        t0 = time.perf_counter()
        n, dt = textbook.run_wgan_gp(G, D, data, cfg.z_dim, cfg.batch_size, 2, n_critic=cfg.n_critic)
        per = (time.perf_counter() - t0) / n
        n, dt = textbook.run_wgan_gp(G, D, data, cfg.z_dim, cfg.batch_size, max(2, int(seconds / per)), n_critic=cfg.n_critic)
    return n / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--models", default="cdcgan,mlp,dcgan,wgan-gp")
    args = ap.parse_args()
    device = get_device()
    data = mnist_tensor("train")
    results = {"device": str(describe(device)), "seconds_per_measure": args.seconds, "models": {}}
    # the textbook loops build the plain design: the presets' dense layers (g_hidden, d_hidden) off, so
    # both sides train the same networks and the ratio is the engine's (bench_minute measures the layers)
    plain = dict(g_hidden=0, d_hidden=0)
    for model in args.models.split(","):
        our_rate, cfg = ours(model, data, args.seconds, **plain)
        base_rate = baseline(model, cfg, data, args.seconds)
        fp32_rate, _ = ours(model, data, args.seconds, bf16=False, **plain) if cfg.bf16 else (our_rate, cfg)
        r = {"ours_steps_per_s": round(our_rate, 2), "ours_fp32_steps_per_s": round(fp32_rate, 2),
             "textbook_steps_per_s": round(base_rate, 2), "ratio": round(our_rate / base_rate, 2),
             "batch_size": cfg.batch_size, "width": cfg.width, "bf16": cfg.bf16}
        results["models"][model] = r
        print(f"{model:8s} gan_core {our_rate:7.1f} steps/s (fp32 {fp32_rate:6.1f})   textbook {base_rate:7.1f} steps/s   "
              f"ratio {our_rate / base_rate:.2f}x", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

"""Bench: drawing-free training ticks per second of the 2-D toy GAN, against a naive loop.

A tick is what the Architectures page runs between two frames: `ToyTrainer.step(K)` with K=10
iterations (the page's default) of the default toy (ring of 8, batch 256, hidden 64). Target:
>= 20 ticks/s on 2 cores. The baselines, in the same run, are the textbook loop for the same
nets: a fresh numpy batch each iteration, separate D passes on real and fake, nn.BCELoss on a
sigmoid, new label tensors, for-loop Adam, one .item() per metric per iteration; once with the
process's default thread count and once with one thread (to show what threading alone costs).

    python bench/bench_toy2d.py [--ticks 40] [--k 10]
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from gan_core.device import available_cpus
from gan_core.compute import one_thread
from gan_core.toy2d import ToyConfig, ToyTrainer, _mlp, sample_data


def naive_tick(state, k: int) -> None:
    G, D, opt_g, opt_d, cfg, rng = state
    bce = nn.BCELoss()
    for _ in range(k):
        x = torch.from_numpy(sample_data(cfg, cfg.batch, rng))
        z = torch.randn(cfg.batch, cfg.z_dim)
        fake = G(z)
        opt_d.zero_grad()
        d_real = torch.sigmoid(D(x))
        d_fake = torch.sigmoid(D(fake.detach()))
        d_loss = bce(d_real, torch.ones(cfg.batch, 1)) + bce(d_fake, torch.zeros(cfg.batch, 1))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = bce(torch.sigmoid(D(fake)), torch.ones(cfg.batch, 1))
        g_loss.backward()
        opt_g.step()
        _log = (d_loss.item(), g_loss.item(), (d_real > 0.5).float().mean().item(), (d_fake < 0.5).float().mean().item())


def naive_state(cfg: ToyConfig):
    torch.manual_seed(cfg.seed)
    G = _mlp(cfg.z_dim, cfg.hidden, 2, nn.ReLU)
    D = _mlp(2, cfg.hidden, 1, lambda: nn.LeakyReLU(0.2))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999), foreach=False)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999), foreach=False)
    return G, D, opt_g, opt_d, cfg, np.random.default_rng(cfg.seed)


def timed(fn, ticks: int) -> tuple[float, float]:
    """(ticks per wall second, ticks per CPU second of this process), best of three rounds.

    The box is shared, so wall time depends on everyone else's load; CPU time is the work
    itself: for one-thread code, ticks per CPU second is what an otherwise idle core delivers.
    """
    fn()  # warm-up
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(ticks):
            fn()
        best_wall = min(best_wall, (time.perf_counter() - t0) / ticks)
        best_cpu = min(best_cpu, (time.process_time() - c0) / ticks)
    return 1.0 / best_wall, 1.0 / best_cpu


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=40)
    ap.add_argument("--k", type=int, default=10, help="iterations per tick")
    args = ap.parse_args(argv)
    torch.set_num_threads(available_cpus())  # what the app does at start-up (gan_core.device)
    cfg = ToyConfig()
    toy = ToyTrainer(cfg)
    ours, ours_cpu = timed(lambda: toy.step(args.k), args.ticks)
    state = naive_state(cfg)
    naive, naive_cpu = timed(lambda: naive_tick(state, args.k), args.ticks)
    with one_thread():
        naive_1t, naive_1t_cpu = timed(lambda: naive_tick(state, args.k), args.ticks)
    # what the page adds per frame besides training (the data of the plot, not plotly itself)
    draw, _ = timed(lambda: (toy.samples(), toy.decision_surface(60), toy.generator_arrows(64)), args.ticks)
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    result = {
        "bench": "toy2d", "k_iterations_per_tick": args.k, "batch": cfg.batch, "hidden": cfg.hidden,
        "threads": torch.get_num_threads(), "cpus": available_cpus(), "load_avg_1min": load,
        "ticks_per_s": round(ours, 1), "iterations_per_s": round(ours * args.k),
        "ticks_per_cpu_s": round(ours_cpu, 1),
        "naive_ticks_per_s": round(naive, 1), "naive_ticks_per_cpu_s": round(naive_cpu, 1),
        "naive_1thread_ticks_per_s": round(naive_1t, 1), "naive_1thread_ticks_per_cpu_s": round(naive_1t_cpu, 1),
        "speedup_vs_naive": round(ours / naive, 2), "speedup_vs_naive_1thread": round(ours / naive_1t, 2),
        "draw_data_per_s": round(draw, 1), "target_ticks_per_s": 20, "meets_target": ours >= 20,
    }
    print(f"toy GAN: {ours:.1f} ticks/s ({ours * args.k:.0f} it/s), naive loop {naive:.1f} ticks/s "
          f"-> x{ours / naive:.2f}; naive on 1 thread {naive_1t:.1f} -> x{ours / naive_1t:.2f} (load {load})")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

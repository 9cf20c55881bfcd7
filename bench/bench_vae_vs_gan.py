"""VAE vs GAN at equal training time: is "VAE results are blurry" true of this app's models, and by how much?

    python bench/bench_vae_vs_gan.py [--budgets 30,60] [--gan cdcgan] [--seed 0] [--n 1000]

For each budget, a fresh VAE (`--model vae`) and a fresh GAN (default: the app's default model) race
with gan_core.versus.race: turns of 0.5 s until each has trained the budget in seconds of training time,
so a machine shared with other work slows both alike. Then n samples of each (and n real MNIST test
digits, the baseline) are measured: sharpness (variance of the Laplacian, and mean edge strength, on
[0, 1] pixels) and the bundled digit classifier's confidence. Prints a table, the GAN-over-VAE ratios
and one JSON line. One seed: a few points of confidence are noise.
"""
import argparse
import json
import os

from gan_core.device import describe, get_device
from gan_core.pipelines import load_training_data
from gan_core.training import TrainConfig, Trainer
from gan_core.versus import compare, race


def one_budget(data, gan: str, seconds: float, seed: int, n: int) -> dict:
    trainers = {"vae": Trainer(TrainConfig.preset("vae", seed=seed), data.images, device=get_device()),
                "gan": Trainer(TrainConfig.preset(gan, seed=seed), data.images, device=get_device(), labels=data.labels)}
    race(list(trainers.values()), seconds)
    report = compare({k: t.generator for k, t in trainers.items()}, n=n, seed=seed + 1000)
    for k, t in trainers.items():
        report[k].update(steps=t.iteration, train_seconds=round(t.elapsed, 1), error=str(t.error) if t.error else None)
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budgets", default="30,60", help="seconds of training each, comma-separated")
    p.add_argument("--gan", default="cdcgan", help="the GAN to race (a registry model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=1000, help="samples measured per model")
    args = p.parse_args()
    data = load_training_data("mnist")
    results = {}
    print(f"VAE vs {args.gan} on {describe(get_device())}, {os.cpu_count()} CPUs visible, seed {args.seed}")
    print(f"{'budget':>7} {'model':>7} {'steps':>6} {'sharp':>7} {'vs real':>8} {'edges':>6} {'conf':>6} {'sure':>6}")
    for budget in (float(b) for b in args.budgets.split(",")):
        r = one_budget(data, args.gan, budget, args.seed, args.n)
        results[f"{budget:g}s"] = r
        for k in ("vae", "gan", "real"):
            v = r[k]
            print(f"{budget:>6g}s {k:>7} {v.get('steps', '-'):>6} {v['laplacian_var']:7.4f} {v['vs_real']:7.2f}x "
                  f"{v['gradient']:6.3f} {v['confidence']:6.1%} {v['confident_share']:6.1%}")
        print(f"        ratio gan/vae: sharpness {r['gan']['laplacian_var'] / r['vae']['laplacian_var']:.2f}x, "
              f"confidence {r['gan']['confidence'] / r['vae']['confidence']:.2f}x, "
              f"sure digits {r['gan']['confident_share'] / max(r['vae']['confident_share'], 1e-9):.2f}x")
    print(json.dumps({"bench": "vae_vs_gan", "gan": args.gan, "seed": args.seed, "n": args.n,
                      "device": str(describe(get_device())), "results": results}, default=float))


if __name__ == "__main__":
    main()

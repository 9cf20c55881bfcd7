"""Command line: python -m gan_core {train,sample,score,...} --help

Each subcommand is a small function `cmd_<name>(args)` plus its parser in `build_parser()`.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _progress(total, desc, unit="step"):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.5)


def load_training_data(spec: str, img_size: int | None, channels: int):
    """'mnist' -> MNIST train; a path -> the image folder, centre-cropped and resized."""
    from .data import load_image_folder, mnist_tensor
    if spec == "mnist":
        return mnist_tensor("train")
    folder = load_image_folder(spec, size=img_size or 64, channels=channels)
    print(f"loaded {len(folder.paths)} images from {spec}; skipped {len(folder.skipped)} unreadable", file=sys.stderr)
    return folder.tensor


def model_card(trainer, data_spec: str, wall: float, scores: dict | None) -> str:
    from .device import describe
    cfg = trainer.cfg
    lines = ["---", "library_name: gan-playground", "tags: [gan, gan-playground]", "---",
             f"# {cfg.model} generator trained with gan_core", "",
             f"- Data: {'MNIST 60k training images (Y. LeCun and C. Cortes, CC BY-SA 3.0)' if data_spec == 'mnist' else data_spec}",
             f"- Steps: {trainer.iteration} (batch {cfg.batch_size}), {trainer.elapsed:.1f} s of training, {wall:.1f} s wall",
             f"- Hardware: {describe(trainer.device)}",
             f"- Config: `{json.dumps({k: v for k, v in vars(cfg).items()})}`"]
    if scores:
        lines.append(f"- Digit scores (2000 samples): `{json.dumps(scores)}`")
    return "\n".join(lines) + "\n"


def cmd_train(args):
    import torch
    from .data import to_uint8
    from .grid import make_grid, to_pil
    from .training import TrainConfig, Trainer
    if args.steps is None and args.time_budget is None:
        sys.exit("train: give --steps N or --time-budget SECONDS")
    data = load_training_data(args.data, args.img_size, args.channels)
    out = Path(args.out)
    if args.resume and (out / "trainer_state.pt").exists():
        trainer = Trainer.resume(out, data)
        print(f"resuming {out} at step {trainer.iteration}", file=sys.stderr)
    else:
        overrides = {k: getattr(args, k) for k in ("z_dim", "width", "lr_g", "lr_d", "batch_size", "n_critic", "dropout")}
        cfg = TrainConfig.preset(args.model, seed=args.seed, balance=args.balance, bf16=args.bf16, **overrides)
        trainer = Trainer(cfg, data)
    t0 = time.perf_counter()
    last_save = time.perf_counter()
    if args.steps is not None:
        bar = _progress(args.steps, f"train {trainer.cfg.model}")
        bar.update(min(trainer.iteration, args.steps))
        while trainer.iteration < args.steps and not trainer.error:
            done = trainer.step(min(10, args.steps - trainer.iteration))
            bar.update(len(done))
            bar.set_postfix(d=f"{done[-1]['d_loss']:.3f}", g=f"{done[-1]['g_loss']:.3f}")
            if args.save_every and time.perf_counter() - last_save > args.save_every:
                trainer.save(out)
                last_save = time.perf_counter()
    else:
        bar = _progress(round(args.time_budget), f"train {trainer.cfg.model}", unit="s")
        start = trainer.elapsed
        while trainer.elapsed - start < args.time_budget and not trainer.error:
            done = trainer.step(10)
            bar.n = min(round(trainer.elapsed - start), bar.total)
            bar.set_postfix(step=trainer.iteration, d=f"{done[-1]['d_loss']:.3f}", g=f"{done[-1]['g_loss']:.3f}")
            bar.refresh()
    bar.close()
    wall = time.perf_counter() - t0
    if trainer.error:
        trainer.save(out)
        sys.exit(f"error: {trainer.error} (last good state saved in {out})")
    scores = None
    if tuple(data.shape[1:]) == (1, 28, 28) and not args.no_score:
        from .metrics import score_digits
        scores = score_digits(trainer.G.generate(2000, seed=args.seed))
    trainer.save(out, model_card(trainer, args.data, wall, scores))
    to_pil(make_grid(to_uint8(trainer.fixed_samples())), scale=2).save(out / "samples.png")
    summary = {"out": str(out), "steps": trainer.iteration, "train_seconds": round(trainer.elapsed, 2),
               "steps_per_second": round(trainer.steps_per_second, 2), "scores": scores}
    print(json.dumps(summary))
    _ = torch  # imported for side effects of device selection in Trainer


def cmd_sample(args):
    from .data import to_uint8
    from .grid import make_grid, to_pil
    from .hub import ModelLoadError, load_model
    from .models import GeneratorBase
    try:
        G = load_model(args.source, revision=args.revision, expect=GeneratorBase)
    except ModelLoadError as e:
        sys.exit(f"error: {e}")
    images = to_uint8(G.generate(args.n, seed=args.seed))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, images)
    elif out.suffix.lower() in (".png", ".jpg", ".jpeg"):
        to_pil(make_grid(images), scale=args.scale).save(out)
    else:
        sys.exit(f"error: --out must end in .png or .npy, not {out.suffix!r}")
    print(json.dumps({"out": str(out), "shape": list(images.shape)}))


def cmd_score(args):
    from .hub import ModelLoadError, load_model
    from .metrics import score_digits
    from .models import GeneratorBase
    try:
        G = load_model(args.source, revision=args.revision, expect=GeneratorBase)
    except ModelLoadError as e:
        sys.exit(f"error: {e}")
    if (G.channels, G.img_size) != (1, 28):
        sys.exit(f"error: digit scores need a 28x28 grey generator; {args.source} makes {G.channels}x{G.img_size}x{G.img_size}")
    print(json.dumps(score_digits(G.generate(args.n, seed=args.seed))))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_core", description="GAN Playground: train, sample and score GANs.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN on MNIST or an image folder")
    t.add_argument("--model", choices=["mlp", "dcgan", "wgan", "wgan-gp"], default="dcgan")
    t.add_argument("--data", default="mnist", help="'mnist' or a folder of images (searched recursively)")
    t.add_argument("--steps", type=int)
    t.add_argument("--time-budget", type=float, help="train for this many seconds instead of --steps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="output folder (a loadable generator)")
    t.add_argument("--img-size", type=int, choices=[28, 64], help="image size for folder data (default 64)")
    t.add_argument("--channels", type=int, choices=[1, 3], default=3, help="channels for folder data")
    for name, typ in (("z-dim", int), ("width", int), ("lr-g", float), ("lr-d", float), ("batch-size", int),
                      ("n-critic", int), ("dropout", float)):
        t.add_argument(f"--{name}", type=typ)
    t.add_argument("--balance", action="store_true", help="skip the turn of the net that is too good")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    t.add_argument("--resume", action="store_true", help="continue from --out if it holds a run")
    t.add_argument("--save-every", type=float, default=300, help="checkpoint every N seconds (with --steps)")
    t.add_argument("--no-score", action="store_true", help="skip the digit scores at the end")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="sample a generator (folder or Hub repo id)")
    s.add_argument("source")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help=".png for a grid, .npy for raw uint8 samples")
    s.add_argument("--revision")
    s.add_argument("--scale", type=int, default=2, help="pixel zoom for the PNG grid")
    s.set_defaults(func=cmd_sample)

    c = sub.add_parser("score", help="digit scores of a 28x28 generator, as JSON")
    c.add_argument("source")
    c.add_argument("--n", type=int, default=2000)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--revision")
    c.set_defaults(func=cmd_score)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

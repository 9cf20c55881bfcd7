"""Command line: python -m gan_core {train,sample,score,...} --help

Each subcommand is a small function `cmd_<name>(args)` plus its parser in `build_parser()`.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import registry
from .config import BOUNDS, CHOICES, STYLE_LR, TYPES, ConfigError, TrainConfig, check
from .datasets import NAMES as DATASET_NAMES
from .messages import GanError, Message

# The preset's numbers `train` takes as flags (--z-dim ...): each checked against BOUNDS, typed as in
# TrainConfig, and passed on as an override of the model's preset.
NUMBER_FLAGS = ("z_dim", "width", "g_hidden", "g_layers", "d_hidden", "lr_g", "lr_d", "beta1", "beta2", "batch_size", "n_critic",
                "gp_every", "r1", "r1_every", "dropout", "g_class_weight", "real_label")
# The preset's switches `train` takes as --name / --no-name (default: the preset's): the conditional model's parts,
# and the memory layout.
SWITCH_FLAGS = {"g_class_norm": "G's batch norms scale and shift per digit (ClassBatchNorm)",
                "d_twin": "D's twin digit head, kept unsure by G (TAC-GAN)",
                "channels_last": "NHWC tensors: the same sums, faster convolutions on CPU"}


def _presets_setting(key: str, unset=0) -> str:
    """The presets that set `key` to something other than `unset`, and to what, for a flag's help."""
    def shown(value):  # a factor as 0.3 or 1, a step count as written (":g" would write 1,000,000 as 1e+06)
        return f"{value:g}" if isinstance(value, float) else str(value)
    return ", ".join(f"{m}'s {shown(s.preset[key])}" for m, s in registry.SPECS.items() if s.preset.get(key, unset) != unset)


def _progress(total, desc, unit="step", disable=False):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.5, disable=disable)


def english(message) -> str:
    """A gan_core message (or error) as the CLI prints it: English, without the page's code quotes."""
    return str(message).replace("`", "")


def _fail(err: GanError) -> None:
    sys.exit(f"error: {english(err)}")


def _resume_changes(saved, args) -> dict:
    """The run settings given as flags on --resume that differ from the saved run's. Those a running trainer
    takes (LIVE_SETTINGS: rates, batch, EMA, ...) are returned; one that makes another run (a width, an
    optimizer) stops here, rather than being ignored."""
    from .training import LIVE_SETTINGS
    given = {k: getattr(args, k) for k in args.run_settings if getattr(args, k) is not None}
    changes = {k: v for k, v in given.items() if v != getattr(saved, k)}
    fixed = [k for k in changes if k not in LIVE_SETTINGS]
    if fixed:
        sys.exit("error: --resume: " + ", ".join(f"--{k.replace('_', '-')} {changes[k]} (the run's is {getattr(saved, k)})"
                                                 for k in fixed)
                 + " cannot change in a saved run; leave it out, or start a new run in another --out")
    return changes


def cmd_train(args):
    from . import distributed
    from .pipelines import load_training_data, save_run
    from .training import TrainConfig, Trainer
    if args.steps is None and args.time_budget is None:
        sys.exit("train: give --steps N or --time-budget SECONDS")
    # Under torchrun: join its process group; each rank reads its shard, rank 0 alone speaks and writes
    device = distributed.init(args.dist_timeout) if distributed.launched() else None
    main = distributed.is_main()
    say = (lambda text: print(text, file=sys.stderr)) if main else (lambda text: None)
    if device is None and args.sync_bn:
        say("--sync-bn: one process, BatchNorm already sees the whole batch")
    shard = (distributed.rank(), distributed.world_size()) if distributed.active() else None
    data = load_training_data(args.data, args.img_size, args.channels, shard=shard)
    for note in data.notes:
        say(english(note) + (f" (rank 0's shard: 1 image in {shard[1]})" if shard else ""))
    out = Path(args.out)
    resume = args.resume and (out / "trainer_state.pt").exists()
    # some processes see a run there and others do not (agree() answers alike on every rank)
    if args.resume and distributed.world_size() > 1 and distributed.agree(resume, device) and distributed.agree(not resume, device):
        sys.exit(f"error: --resume: {out} holds a run on some machines and not on others; "
                 "every process must see the run folder (a shared disk, or a copy on each machine)")
    if resume:
        trainer = Trainer.resume(out, data.images, device=device, labels=data.labels, sync_bn=args.sync_bn)
        changes = _resume_changes(trainer.cfg, args)  # refuses a fixed flag before saying it resumes
        say(f"resuming {out} at step {trainer.iteration}" + (f" (saved at world size {trainer.saved_world}, now {trainer.world})"
                                                            if trainer.saved_world != trainer.world else ""))
        if changes:  # e.g. lower rates and an EMA for a final phase: as the page changes a run while it trains
            say("changed on resume: " + ", ".join(f"{k} {getattr(trainer.cfg, k)} -> {v}" for k, v in changes.items()))
            trainer.change_settings(**changes)
    else:
        overrides = {k: getattr(args, k) for k in args.run_settings}
        cfg = TrainConfig.preset(args.model, seed=args.seed, balance=args.balance, bf16=args.bf16, **overrides)
        trainer = Trainer(cfg, data.images, device=device, labels=data.labels, sync_bn=args.sync_bn)
    if trainer.cfg.bf16 and not trainer.bf16:
        say(english(Message("train.bf16_emulated")))
    if trainer.world > 1:
        say(f"{trainer.world} processes (torchrun, DDP): global batch {trainer.cfg.batch_size}, "
            f"{trainer.local_batch} per process")
    if distributed.active():  # torchrun ends the others when one fails: say so, instead of dying silently
        import signal
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(
            f"error: process {trainer.rank} of {trainer.world} stopped by torchrun at step {trainer.iteration}: "
            f"another process failed or the job was cancelled (last checkpoint: {out})"))
    t0 = last_save = time.perf_counter()
    budget = args.steps if args.steps is not None else round(args.time_budget)
    bar = _progress(budget, f"train {trainer.cfg.model}", unit="step" if args.steps is not None else "s", disable=not main)
    start = trainer.elapsed
    bar.update(min(trainer.iteration, args.steps) if args.steps is not None else 0)

    def progress(done):  # after every chunk: the bar, and a checkpoint every --save-every seconds
        nonlocal last_save
        if args.steps is not None:
            bar.update(len(done))
        else:
            bar.n = min(round(trainer.elapsed - start), bar.total)
            bar.refresh()
        last = done[-1]  # a GAN's two losses, or the VAE's -ELBO
        bar.set_postfix(step=trainer.iteration, **({"d": f"{last['d_loss']:.3f}", "g": f"{last['g_loss']:.3f}"} if "d_loss" in last
                                                   else {"loss": f"{last['loss']:.1f}"}))
        if args.save_every and time.perf_counter() - last_save > args.save_every:
            trainer.save(out)  # rank 0 writes, the others return at once: no rank waits for another here
            last_save = time.perf_counter()
    try:
        trainer.run(steps=args.steps, seconds=args.time_budget, on_chunk=progress)
    except RuntimeError as e:  # under torchrun: a collective failed, another rank is gone (torchrun ends the rest)
        if not distributed.active():
            raise
        bar.close()
        sys.exit(f"error: {english(distributed.lost(e, trainer.iteration))}. The last checkpoint is in {out} "
                 "(if one was written); continue with --resume, on any number of processes.")
    bar.close()
    if trainer.error:
        trainer.save(out)
        sys.exit(f"error: {english(trainer.error)} (last good state saved in {out})" if main else 1)
    if main:
        summary = save_run(trainer, out, args.data, time.perf_counter() - t0, score_n=0 if args.no_score else 2000,
                           seed=args.seed)
        print(json.dumps(summary))
    trainer.close()
    distributed.cleanup()


def _generator(args):
    from .pipelines import load_generator
    return load_generator(args.source, revision=args.revision)


def cmd_sample(args):
    from .grid import make_grid, to_pil
    from .pipelines import sample_images
    out = Path(args.out)
    if out.suffix.lower() not in (".npy", ".png", ".jpg", ".jpeg"):
        sys.exit(f"error: --out must end in .png or .npy, not {out.suffix!r}")
    images = sample_images(_generator(args), args.n, args.seed, digit=args.digit)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, images)
    else:
        to_pil(make_grid(images), scale=args.scale).save(out)
    print(json.dumps({"out": str(out), "shape": list(images.shape)}))


def cmd_score(args):
    from .pipelines import score_generator
    print(json.dumps(score_generator(_generator(args), args.n, args.seed)))


def cmd_notebook(args):
    """A run folder as a Jupyter notebook that trains it again in plain PyTorch (see gan_core.notebook)."""
    from .notebook import dumps, from_run
    out = Path(args.out)
    if out.suffix.lower() != ".ipynb":
        sys.exit(f"error: --out must end in .ipynb, not {out.suffix!r}")
    text = dumps(from_run(args.run))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(json.dumps({"out": str(out), "run": str(args.run)}))


def cmd_interpolate(args):
    """A strip (PNG) or an animation (GIF) between the faces of two seeds."""
    from .grid import gif_bytes, make_grid, to_pil
    from .pipelines import latent_frames
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".gif"):
        sys.exit(f"error: --out must end in .png (strip) or .gif (animation), not {out.suffix!r}")
    if args.frames < 2:
        sys.exit("error: --frames must be at least 2 (both endpoints)")
    frames = latent_frames(_generator(args), ("path", args.seed_a, args.seed_b, args.frames, args.mode), args.truncation)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        seq = list(frames) + (list(frames[-2:0:-1]) if args.bounce else [])
        out.write_bytes(gif_bytes(seq, duration_ms=args.ms, scale=args.scale))
    else:
        to_pil(make_grid(frames, nrow=len(frames)), scale=args.scale).save(out)
    print(json.dumps({"out": str(out), "frames": len(frames), "mode": args.mode, "seeds": [args.seed_a, args.seed_b]}))


def cmd_push(args):
    """Upload a model folder (config, safetensors, model card) to a Hub repo; never pickles."""
    from .hub import ALLOW, ModelLoadError, read_config, read_weights
    folder = Path(args.folder)
    files = _push_files(folder, ALLOW)
    try:
        read_config(folder)
        read_weights(folder)  # refuses pickles, checks the safetensors open
    except ModelLoadError as e:
        _fail(e)
    if not (folder / "README.md").exists() and not args.allow_no_card:
        sys.exit(f"error: {folder} has no README.md model card (data, steps, licence); write one or pass --allow-no-card")
    from huggingface_hub.utils import HFValidationError, validate_repo_id
    try:
        validate_repo_id(args.repo_id)
    except HFValidationError as e:
        sys.exit(f"error: {args.repo_id!r} is not a valid repo id (owner/name): {e}")
    if args.dry_run:
        print(json.dumps({"repo_id": args.repo_id, "files": files, "private": args.private, "dry_run": True}))
        return
    from huggingface_hub import HfApi, get_token
    token = args.token or get_token()
    if not token:
        sys.exit("error: not logged in to the Hugging Face Hub: run `hf auth login` or set HF_TOKEN (a write token)")
    api = HfApi(token=token)
    try:
        url = api.create_repo(args.repo_id, private=args.private, exist_ok=True)
        if args.branch:  # the Hub refuses a commit to a branch that does not exist yet
            api.create_branch(args.repo_id, branch=args.branch, exist_ok=True)
        commit = api.upload_folder(repo_id=args.repo_id, folder_path=folder, allow_patterns=ALLOW,
                                   commit_message=args.message, revision=args.branch)
    except Exception as e:  # offline, bad token, no write access, ...
        sys.exit(f"error: could not push to {args.repo_id!r}: {type(e).__name__}: {e}")
    print(json.dumps({"repo": str(url), "commit": getattr(commit, "oid", None), "files": files}))


def _push_files(folder: Path, allow) -> list[str]:
    import fnmatch
    if not folder.is_dir():
        sys.exit(f"error: {folder} is not a folder")
    return sorted(p.name for p in folder.iterdir() if p.is_file() and any(fnmatch.fnmatch(p.name, a) for a in allow))


def cmd_stylize(args):
    """Neural style transfer of CONTENT in the manner of STYLE; prints the losses and the wall time."""
    from .device import get_device
    from .image_io import ImageLoadError, load_image
    from .pipelines import stylize
    from .style import GatysConfig, StyleModels
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        sys.exit(f"error: --out must end in .png or .jpg, not {out.suffix!r}")
    if not 32 <= args.size <= 2048:
        sys.exit("error: --size must be between 32 and 2048 px")
    images = {}
    for role, path in (("content", args.content), ("style", args.style)):
        try:
            loaded = load_image(path, max_side=max(args.size, 512))
        except ImageLoadError as e:
            sys.exit(f"error: {role} image {path}: {english(e)}")
        for note in loaded.notes:
            print(f"{role}: {note}", file=sys.stderr)
        images[role] = loaded.image
    models = StyleModels.load(get_device())
    cfg = None
    if args.method == "gatys":
        cfg = GatysConfig(size=args.size, content_weight=args.content_weight, style_weight=args.style_weight,
                          tv_weight=args.tv_weight, init=args.init, optimizer=args.optimizer, lr=args.lr,
                          seed=args.seed)

    def report(p):
        print(f"step {p.step:5d}  content {p.content:.4g}  style {p.style:.4g}  tv {p.tv:.4g}  total {p.total:.4g}"
              f"  ({p.elapsed:.1f} s)", file=sys.stderr)
    t0 = time.perf_counter()
    image, job = stylize(models, images["content"], images["style"], method=args.method, size=args.size,
                         steps=args.steps, alpha=args.alpha, preserve_color=args.preserve_color, cfg=cfg,
                         callback=report, every=args.every)
    wall = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image
    Image.fromarray(image).save(out)
    summary = {"out": str(out), "method": args.method, "shape": list(image.shape), "wall_seconds": round(wall, 2)}
    if job is not None:
        run = job.transfer
        last = run.history[-1] if run.history else None
        summary.update(steps=run.step_count, best_total=round(run.best_loss, 6), error=str(run.error) if run.error else None)
        if last:
            summary.update(content_loss=round(last.content, 6), style_loss=round(last.style, 6), tv_loss=round(last.tv, 6))
    print(json.dumps(summary))


def _bounded(name: str, kind: type):
    """An argparse type for a TrainConfig field: parsed, then checked against config.BOUNDS."""
    def parse(text: str):
        try:
            return check(name, kind(text))
        except ValueError as e:  # ConfigError is one too, with the bounds in its sentence
            raise argparse.ArgumentTypeError(english(e) if isinstance(e, ConfigError) else f"not a {kind.__name__}: {text}")
    parse.__name__ = kind.__name__  # argparse names the type in its "invalid ... value" message
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_core", description="GAN Playground: train, sample and score GANs.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN on MNIST, Fashion-MNIST, the emoji demo set, a .zip or a folder",
                       epilog="On several GPUs or machines, one run: torchrun --nproc_per_node N -m gan_core train ... "
                              "(see docs/distributed.md)")
    t.add_argument("--model", choices=registry.offered("cli"), default=registry.DEFAULT_MODEL)
    t.add_argument("--data", default="mnist",
                   help=f"a bundled dataset ({', '.join(DATASET_NAMES)}), a .zip of images (read with the app's upload "
                        "limits: see docs/data.md) or a folder of images (searched recursively)")
    t.add_argument("--steps", type=int)
    t.add_argument("--time-budget", type=float, help="train for this many seconds instead of --steps")
    t.add_argument("--out", required=True, help="output folder (a loadable generator)")
    t.add_argument("--img-size", type=int, choices=[28, 32, 64], help="image size (default: the dataset's own; 64 for a zip or folder)")
    t.add_argument("--channels", type=int, choices=[1, 3], help="1 grey, 3 RGB (default: the dataset's own; 3 for a zip or folder)")
    run_settings = []  # the TrainConfig fields given as flags: each overrides the model's preset where given

    def setting(key: str, **kwargs):
        run_settings.append(key)
        t.add_argument("--" + key.replace("_", "-"), **kwargs)

    for key in NUMBER_FLAGS:
        setting(key, type=_bounded(key, TYPES[key]),
                help="[{}, {}]".format(*BOUNDS[key]) + (
                    "; the GLOBAL batch: under torchrun each of N processes takes batch/N (a multiple of N)"
                    if key == "batch_size" else ""))
    for key, about in SWITCH_FLAGS.items():
        setting(key, action=argparse.BooleanOptionalAction, default=None,
                help=f"{about}; default: the model's preset (on in: "
                     f"{', '.join(n for n, spec in registry.SPECS.items() if spec.preset.get(key)) or 'none'})")
    setting("ema", type=_bounded("ema", float), help="EMA decay of G's weights, 0 = off; on --resume it starts one")
    setting("optimizer", choices=CHOICES["optimizer"], help="default: the model's preset (sgd: plain SGD, as the slides mention)")
    setting("batching", choices=CHOICES["batching"], help="random batches or shuffled epochs (default: the model's preset)")
    setting("d_norm", choices=CHOICES["d_norm"],
            help="the DCGAN family's D: its norm between convolutions (auto: batch, none in a WGAN's critic; "
                 "default: the model's preset)")
    setting("equalized_lr", choices=CHOICES["equalized_lr"],
            help="ProGAN's equalized learning rate in D or both nets: He init, each layer's rate times its He "
                 "constant sqrt(2 / fan_in), so that net's --lr reads higher than usual (default: the model's "
                 "preset; on in: " + ", ".join(f"{n} ({spec.preset['equalized_lr']})" for n, spec in registry.SPECS.items()
                                               if spec.preset.get("equalized_lr", "none") != "none") + ")")
    setting("phase_steps", type=_bounded("phase_steps", int),
            help="progressive: steps of each growth phase (7x7, fade-in 14, 14x14, fade-in 28); default: its preset")
    setting("lr_cut_at", type=_bounded("lr_cut_at", int),
            help="after this many iterations the learning rates are times --lr-cut: a calmer end for a long "
                 f"run (default: its preset: 0 = never, {_presets_setting('lr_cut_at')}; saved with the run, so "
                 "--resume keeps it)")
    setting("lr_cut", type=_bounded("lr_cut", float), help="the factor of --lr-cut-at, in [{}, {}] (default {})".format(*BOUNDS["lr_cut"], TrainConfig.lr_cut))
    setting("lr_cut_d", type=_bounded("lr_cut_d", float),
            help="D's own factor at --lr-cut-at, in [{}, {}] (0 = --lr-cut for both; 1 = D keeps its rate; "
                 "default: its preset: {})".format(*BOUNDS["lr_cut_d"], _presets_setting("lr_cut_d")))
    setting("lr_cut_batch", type=_bounded("lr_cut_batch", int),
            help="the batch's factor from --lr-cut-at on, in [{}, {}] (1 = the same batch; a larger batch "
                 "calms the steps as a smaller rate does; default: its preset: {})".format(
                     *BOUNDS["lr_cut_batch"], _presets_setting("lr_cut_batch", unset=1)))
    t.add_argument("--seed", type=_bounded("seed", int), default=0)
    t.add_argument("--balance", action="store_true", help="skip the turn of the net that is too good")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast (off unless given: exact maths by default)")
    t.add_argument("--resume", action="store_true", help="continue from --out if it holds a run")
    t.add_argument("--save-every", type=float, default=300, help="checkpoint every N seconds (with --steps)")
    t.add_argument("--no-score", action="store_true", help="skip the digit scores at the end")
    t.add_argument("--sync-bn", action="store_true",
                   help="under torchrun: BatchNorm statistics over all processes' samples (SyncBatchNorm)")
    t.add_argument("--dist-timeout", type=float, default=300,
                   help="under torchrun: seconds a process waits for a lost one before the run stops (default 300)")
    t.set_defaults(func=cmd_train, run_settings=tuple(run_settings))

    s = sub.add_parser("sample", help="sample a generator (folder or Hub repo id)")
    s.add_argument("source")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help=".png for a grid, .npy for raw uint8 samples")
    s.add_argument("--revision")
    s.add_argument("--scale", type=int, default=2, help="pixel zoom for the PNG grid")
    s.add_argument("--digit", type=int, help="a conditional generator (cdcgan) draws this digit in every sample")
    s.set_defaults(func=cmd_sample)

    c = sub.add_parser("score", help="digit scores of a 28x28 generator, as JSON")
    c.add_argument("source")
    c.add_argument("--n", type=int, default=2000)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--revision")
    c.set_defaults(func=cmd_score)

    n = sub.add_parser("notebook", help="a run folder as a Jupyter notebook that trains it again in plain PyTorch")
    n.add_argument("run", help="a folder written by `python -m gan_core train` (an MNIST model)")
    n.add_argument("--out", required=True, help="the notebook file, .ipynb")
    n.set_defaults(func=cmd_notebook)

    i = sub.add_parser("interpolate", help="interpolate between two seeds' faces: a PNG strip or a GIF")
    i.add_argument("source", help="generator folder or Hub repo id")
    i.add_argument("--seed-a", type=int, default=0)
    i.add_argument("--seed-b", type=int, default=1)
    i.add_argument("--frames", type=int, default=16)
    i.add_argument("--mode", choices=["slerp", "lerp"], default="slerp")
    i.add_argument("--truncation", type=float, default=1.0, help="psi in [0, 1]; <1 pulls z towards the mean")
    i.add_argument("--out", required=True, help=".png for a strip, .gif for an animation")
    i.add_argument("--revision")
    i.add_argument("--scale", type=int, default=2, help="pixel zoom")
    i.add_argument("--ms", type=int, default=100, help="GIF frame duration")
    i.add_argument("--bounce", action="store_true", help="GIF plays A->B->A")
    i.set_defaults(func=cmd_interpolate)

    u = sub.add_parser("push", help="upload a model folder and its model card to a Hugging Face Hub repo")
    u.add_argument("folder", help="a folder with config.json, safetensors weights and README.md")
    u.add_argument("repo_id", help="owner/name on the Hub (created if missing)")
    u.add_argument("--private", action="store_true")
    u.add_argument("--branch", help="upload to this branch, created from main if missing (default main)")
    u.add_argument("--message", default="Upload gan_core model")
    u.add_argument("--token", help="a write token (default: HF_TOKEN or the saved login)")
    u.add_argument("--allow-no-card", action="store_true", help="push without README.md")
    u.add_argument("--dry-run", action="store_true", help="check and list the files, upload nothing")
    u.set_defaults(func=cmd_push)
    y = sub.add_parser("stylize", help="neural style transfer (Gatys optimisation or AdaIN) of CONTENT in STYLE")
    y.add_argument("content", help="content image file")
    y.add_argument("style", help="style image file")
    y.add_argument("--method", choices=["gatys", "adain"], default="adain")
    y.add_argument("--size", type=int, default=256, help="long side of the result, px")
    y.add_argument("--steps", type=int, default=200, help="Gatys: loss evaluations")
    y.add_argument("--out", required=True, help=".png or .jpg")
    y.add_argument("--alpha", type=float, default=1.0, help="AdaIN: 0 = content, 1 = full style")
    y.add_argument("--preserve-color", action="store_true", help="AdaIN: keep the content's colours")
    y.add_argument("--init", choices=["content", "noise", "adain"], default="content", help="Gatys: start image")
    y.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    y.add_argument("--lr", type=float, help="Gatys: step size (default: %s)" % ", ".join(
        f"{v:g} for {k}" for k, v in STYLE_LR.items()))
    y.add_argument("--content-weight", type=float, default=1.0)
    y.add_argument("--style-weight", type=float, default=1e5)
    y.add_argument("--tv-weight", type=float, default=10.0)
    y.add_argument("--every", type=int, default=10, help="Gatys: print the losses every N steps")
    y.add_argument("--seed", type=int, default=0)
    y.set_defaults(func=cmd_stylize)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except GanError as e:  # every refusal from gan_core: its English sentence, no traceback
        _fail(e)


if __name__ == "__main__":
    main()

"""A recipe change beside its model's preset, seed by seed in one queue: the tuning behind docs/benchmarks.md.

    python bench/bench_tune.py MODEL [--at 60] [--seeds 0,1,2] [--draws 1] TRIAL [TRIAL ...]
    python bench/bench_tune.py cdcgan --at 10,30 --seeds 0,1,2 width24:width=24 b48:batch_size=48
    python bench/bench_tune.py wgan --seeds 0,1,2,3,4 "clip:clip=0.015" "norm:d_norm=none,clip=0.02"

TRIAL is `name:key=value,key=value`: TrainConfig settings on top of MODEL's preset (values read as JSON,
else as words: `d_norm=batch`), refused as an uploaded run config is (unknown keys, wrong types, out of bounds).
`name@STEP:key=value` trains the preset until iteration STEP and switches the settings on there (those a running
trainer reads at every iteration: gan_core.training.LIVE_SETTINGS), as the rate cut comes:

    python bench/bench_tune.py cdcgan --at 10,30 "r1late@1000:r1=1" "ema@1000:ema=0.995"

For each seed the preset trains first, then each trial, each for the same training time, scored at each
time of `--at` as bench_minute.py scores (2000 samples, the bundled digit classifier, `--draws` draws of them
averaged; the process warmed up first, as there): seeds interleaved, so
a slow hour falls on the preset and the trials alike. The machine's speed still moves from one run to the
next; each trial's steps against the preset's are printed beside its scores, as a gain that is only more
steps reads differently from one that is a better recipe.

Prints every run, then each trial against the preset at each checkpoint: the mean confident share and
Frechet distance, in how many seeds it is more confident / lower in distance, in how many it draws every
digit, and the steps ratio; and one JSON line. A tuning queue measures; it does not decide: a change goes
into the registry once it wins in most seeds and the bench minute (bench_minute.py) agrees.
"""
import argparse
import json

from gan_core import registry
from gan_core.config import ConfigError, TrainConfig
from gan_core.training import LIVE_SETTINGS

from bench_minute import DEFAULT_AT, DRAWS_HELP, mean_rows, mnist_warmed, show, this_machine, train_and_score


def parse_trial(spec: str) -> tuple[str, dict]:
    """`name:key=value,...` -> (name, overrides). Values are JSON where they parse (numbers, true/false),
    words otherwise."""
    name, sep, settings = spec.partition(":")
    if not name or not sep:
        raise ValueError(f"a trial is name:key=value,...; got {spec!r}")
    overrides = {}
    for item in filter(None, settings.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ValueError(f"{item!r} in trial {name!r}: expected key=value")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return name, overrides


def late_start(name: str) -> int | None:
    """The iteration a trial named `name@STEP` switches its settings on at; None for a trial from the start."""
    _, at, step = name.partition("@")
    if not at:
        return None
    if not step.isdigit() or int(step) < 1:
        raise ValueError(f"trial {name!r}: name@STEP wants a step >= 1")
    return int(step)


def compare(base: list[list[dict]], trial: list[list[dict]]) -> list[dict]:
    """Checkpoint by checkpoint, a trial's runs against the preset's of the same seeds (the lists pair up)."""
    out = []
    for i in range(len(base[0])):
        pairs = [(b[i], t[i]) for b, t in zip(base, trial, strict=True)]
        n = len(pairs)
        out.append({
            "seconds": round(sum(t["seconds"] for _, t in pairs) / n, 1),
            "confident_gain": round(sum(t["confident_share"] - b["confident_share"] for b, t in pairs) / n, 4),
            "more_confident": sum(t["confident_share"] > b["confident_share"] for b, t in pairs),
            "frechet_gain": round(sum(b["frechet"] - t["frechet"] for b, t in pairs) / n, 2),  # > 0: closer to MNIST
            "frechet_lower": sum(t["frechet"] < b["frechet"] for b, t in pairs),
            "every_digit": sum(t["classes_covered"] == 10 for _, t in pairs),
            "preset_every_digit": sum(b["classes_covered"] == 10 for b, _ in pairs),
            "steps_ratio": round(sum(t["steps"] for _, t in pairs) / max(1, sum(b["steps"] for b, _ in pairs)), 3),
            "seeds": n,
        })
    return out


def report(name: str, rows: list[dict]) -> None:
    for c in rows:
        print(f"{name:14s} at {c['seconds']:5.1f} s: confident {c['confident_gain']:+6.1%} (higher in "
              f"{c['more_confident']}/{c['seeds']}), Frechet {-c['frechet_gain']:+6.1f} (lower in "
              f"{c['frechet_lower']}/{c['seeds']}), every digit in {c['every_digit']}/{c['seeds']} "
              f"(preset {c['preset_every_digit']}), steps x{c['steps_ratio']:.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=[m for m in registry.offered("train", "digits") if registry.get(m).adversarial])
    ap.add_argument("trials", nargs="+", metavar="TRIAL", help="name:key=value,key=value (TrainConfig settings)")
    ap.add_argument("--at", help="checkpoints in s of training time, comma-separated (default: 10,30 for the "
                                 "default model, 60 for the others)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument("--draws", type=int, default=1, help=DRAWS_HELP)
    args = ap.parse_args()
    if args.draws < 1:
        ap.error("--draws: at least 1")
    try:
        trials = [parse_trial(s) for s in args.trials]
        seeds = [int(s) for s in args.seeds.split(",")]
        at = (tuple(float(s) for s in args.at.split(",")) if args.at
              else DEFAULT_AT if args.model == registry.DEFAULT_MODEL else (60.0,))
    except ValueError as e:
        ap.error(str(e))
    if len({name for name, _ in trials} | {"preset"}) != len(trials) + 1:
        ap.error("trial names must differ from each other and from 'preset'")
    if list(at) != sorted(set(at)) or at[0] <= 0:
        ap.error("--at: increasing times, > 0")
    queue = [("preset", {})] + trials
    try:  # refused here, before any training, in the sentence an uploaded config gets
        configs = {(name, seed): TrainConfig.preset(args.model, seed=seed, **over) for name, over in queue for seed in seeds}
        starts = {name: late_start(name) for name, _ in queue}
    except (ConfigError, ValueError) as e:
        ap.error(str(e))
    late = {}  # a late trial trains the preset's config and switches its checked settings on at its step
    for name, over in trials:
        if starts[name] is not None:
            if set(over) - set(LIVE_SETTINGS):
                ap.error(f"trial {name!r}: only {', '.join(LIVE_SETTINGS)} can be switched on late")
            late[name] = (starts[name], {key: getattr(configs[name, seeds[0]], key) for key in over})
            configs.update({(name, seed): configs["preset", seed] for seed in seeds})
    data, labels, _ = mnist_warmed()
    machine = this_machine()
    runs = {name: [] for name, _ in queue}
    for seed in seeds:
        for name, _ in queue:
            rows = train_and_score(configs[name, seed], data, labels, at, seed, args.draws, late.get(name))
            runs[name].append(rows)
            for r in rows:
                show(args.model, f"{name} {seed}", r)
    out = {**machine, "model": args.model, "at_s": list(at), "seeds": seeds, "draws": args.draws,
           "trials": {name: {"overrides": over, "from_step": starts[name], "runs": runs[name], "mean": mean_rows(runs[name])} for name, over in queue}}
    print()
    for name, _ in queue:
        for r in out["trials"][name]["mean"]:
            show(args.model, f"{name} mean", r)
    for name, _ in trials:
        out["trials"][name]["against_preset"] = compare(runs["preset"], runs[name])
        report(name, out["trials"][name]["against_preset"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()

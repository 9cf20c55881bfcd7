"""Mutation score of the engine core (issue 21): how many small, plausible bugs the fast tests catch.

mutmut (pinned in pyproject's `dev` extra; settings in [tool.mutmut]) copies gan_core into mutants/,
makes each mutant (a flipped sign, `>` for `>=`, a changed constant...) and runs only the tests that
call the mutated function. SCOPE below says which modules and functions count, each with a line on what it
guards (docs/testing.md, "Scope", says the same for readers). Mutants judged equivalent (no test can tell them
apart from the real code) are listed, each with its reason, in mutation_equivalents.json.

Target: at most 10% of the non-equivalent mutants survive (survived + no tests + suspicious), per module.

    nice -n 10 python bench/mutation_score.py            # fresh run, one worker (over an hour on 2 cores)
    python bench/mutation_score.py --read                # only read mutants/ from the last run
    python bench/mutation_score.py --module losses       # one module (mutants/ of others kept)

Prints a table, then one JSON line: per module killed/survived/no_tests/timeout/equivalent, the score
(killed + timeout over non-equivalent) and the survivors' names (`mutmut show NAME` prints the change).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = Path(__file__).resolve().parent / "mutation_equivalents.json"
TARGET = 0.10  # at most this share of non-equivalent mutants may survive

_T = "xǁTrainerǁ"
_G = "xǁGatysTransferǁ"
# module -> mangled function names mutmut tests (None: every function of the module)
SCOPE = {
    "losses": None,
    "latent": None,
    "metrics": ["xǁDigitClassifierǁ__init__", "xǁDigitClassifierǁforward", "x_gaussian_stats", "x_frechet_distance",
                "x_precision_recall", "x_score_digits", "x_score_features", "x_scores_from_features",
                "x_mode_collapse_warning",
                # the yardstick the Frechet target is 1.5x of, and the stored copy the app reads it from
                "x_computed_test_stats", "x_real_frechet", "x_real_frechet_mean", "x_computed_frechet_mean",
                "x_reference_sources", "x_write_reference"],
    "training": [_T + n for n in ("step", "_skip", "_iteration", "_update", "_judge", "_bce_iteration",
                                  "_r1_step", "_wgan_iteration", "_update_ema", "_g_optimizer_state", "_optimizer_order",
                                  "_apply_rates", "local_batch", "change_settings")] + ["x_warm_up"],
    # a run's settings: the bounds every number is checked against (flags, the page, uploaded run configs), the
    # presets, and the run's schedule (the rate cut and the batch it grows to), which the trainer and the benches read
    "config": None,
    "hub": ["x_resolve", "x__download", "x_read_config", "x_read_weights", "x_load_model", "x__check_remote_size"],
    "style": ["x__pixels_by_channels", "xǁ_Gramǁforward", "x_gram", "x_content_loss", "x_style_loss", "x_tv_loss",
              _G + "losses", _G + "_closure", "x__mean_std", "x_adain"],
    "equalized": None,
    "progressive": None,
    # a full class on one server: who trains now and who waits (seats, turns, the line), and the class run's codes
    "admission": None,
    "classroom": None,
    # one image a visitor hands in (the style page, the CLI): its size caps, EXIF turn and colour modes, or a refusal
    "image_io": None,
    # a visitor's own pictures for the face exercise: a zip or loose files, each member checked before it is read
    "uploads": None,
    # the data sets: MNIST and a folder of pictures as the model's tensors, and the one square crop every picture takes
    "data": None,
    # the live 2-D toy GAN of the architectures page: its shapes, coverage, the two phases, balance, arrows, live settings
    "toy2d": None,
    # the pictures a run shows and hands out (grids, the timeline's GIF), and the "is it a copy?" search
    "grid": None,
    "memorization": None,
    # D judging real and fake in one forward, each half normalised by its own batch statistics
    "halves": None,
    # the VAE the lesson races against a GAN: its encoder, decoder and the two ELBO terms
    "vae": None,
    # the VAE-vs-GAN race at equal training time, in turns, and what it measures (sharpness, confidence, vs real)
    "versus": None,
    # a learner's own digit: any drawing or photo prepared as MNIST was, the classifier's guess and D's verdict
    "drawing": None,
    # the one device of the process: cuda, then mps, else the CPU with threads clamped to the CPUs really available
    "device": None,
    # what leaves with a trained generator: its model card (data, licence, schedule, config, scores) and the zip
    "export": None,
    # the latent page's two face generators: the Hub source or the bundled folder, and why a source fell back
    "faces": None,
    # the bundled data sets: each file cut and read as stored (the emoji sheet's tiles), or a refusal naming the script
    "datasets": None,
    # the trainer's faster layers: convolutions to and from one channel as a matmul and a scatter, and the layouts
    # (channels_last through flatten, 1x1 and narrow batch norm) a swapped layer keeps
    "one_channel": None,
    "layout": None,
    # the networks themselves: the slides' FNN line for line, the tuned FNN, the DCGANs (the 28 px default model's, the
    # 64 px face checkpoints'), the class heads and class norms, and the face exercise's pair, which every page,
    # checkpoint and lesson claim runs
    "models": None,
    # the architectures page's tables and diagrams, read off the real classes: the designs the trainer builds, the
    # layer rows of a real forward, the diagram's boxes and heads, and the source the page and notebook show
    "architecture": None,
    # what varies, declared once: each model's roles, its build (the pair for a config, and the refusals of a shape or
    # setting it cannot take), the lookup and what each front end offers (the presets are data, not mutated)
    "registry": None,
    # what the engine tells a person: a code's sentence in any language, its English fallback, a reason inside a
    # reason, and any exception as a message
    "messages": None,
    # the command line's reading of --resume: the setting flags that change a saved run, and those that cannot
    "cli": ["x__resume_changes"],
    # a server setting from the environment (a seat count, a turn, a wait) and its one fallback; the source of the
    # losses the architectures page shows, read without importing torch
    "env": None,
    "source_text": None,
    # the use cases the CLI and the pages share: the training data (a bundled set, a zip, a folder, a rank's shard), a
    # run's folder, card and download, a generator's samples, digits and scores, the latent frames, AdaIN and Gatys jobs
    "pipelines": None,
}
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no_tests", 33: "no_tests", 34: "skipped",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", None: "not_checked"}
KEYS = ("killed", "timeout", "survived", "no_tests", "suspicious", "skipped", "not_checked")


def patterns(modules) -> list[str]:
    """mutmut's name globs for the scope of `modules`."""
    out = []
    for m in modules:
        funcs = SCOPE[m]
        out += [f"gan_core.{m}.*"] if funcs is None else [f"gan_core.{m}.{f}__mutmut_*" for f in funcs]
    return out


def in_scope(module: str, name: str) -> bool:
    funcs = SCOPE[module]
    return funcs is None or name.split(".", 2)[-1].split("__mutmut_")[0] in funcs


def run_mutmut(modules, fresh: bool) -> float:
    """One worker under `nice -n 10`; mutmut's own progress goes to mutants/mutmut-run.log."""
    if shutil.which("mutmut") is None:
        sys.exit('mutmut is not installed: pip install -e ".[dev]"')
    if fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    (ROOT / "mutants").mkdir(exist_ok=True)
    # torch on one thread per mutant: the tests are tiny, and other processes share the 2 cores
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "GAN_DEVICE": "cpu"}
    t0 = time.perf_counter()
    with open(ROOT / "mutants" / "mutmut-run.log", "w") as log:
        rc = subprocess.run(["nice", "-n", "10", "mutmut", "run", "--max-children", "1", *patterns(modules)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - t0
    if rc != 0:
        sys.exit(f"mutmut run failed (exit {rc}); see mutants/mutmut-run.log")
    return seconds


def load_equivalents() -> dict[str, dict]:
    entries = json.loads(EQUIVALENTS.read_text())
    return {e["mutant"]: e for e in entries}


def changed_line(name: str) -> str | None:
    """The mutant's changed line(s) as mutmut shows them (the '+' side of its diff), or None if unknown."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        diff = get_diff_for_mutant(name)
    except (FileNotFoundError, KeyError, ValueError):
        return None
    finally:
        os.chdir(cwd)
    return " ".join(line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))


def score(modules) -> dict:
    """Counts per module from mutants/gan_core/*.meta, with the listed equivalents taken out.
    An equivalent whose changed line no longer matches the list (the code moved on) counts as what mutmut said; so
    does one the tests now kill (its number now names another mutant, or the code changed so that it matters).
    Both are reported stale, to be matched again or taken off the list."""
    equivalents = load_equivalents()
    out, stale = {}, []
    for m in modules:
        meta = ROOT / "mutants" / "gan_core" / f"{m}.py.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        row = dict.fromkeys(KEYS, 0) | {"equivalent": 0, "survivors": []}
        for name, code in sorted(codes.items()):
            if not in_scope(m, name):
                continue
            status = STATUS.get(code, "suspicious")
            eq = equivalents.get(name)
            if eq is not None:
                if status in ("killed", "timeout") or (eq.get("change") and changed_line(name) != eq["change"]):
                    stale.append(name)
                else:
                    row["equivalent"] += 1
                    continue
            row[status] += 1
            if status in ("survived", "no_tests", "suspicious"):
                row["survivors"].append(name)
        total = sum(row[k] for k in KEYS)
        tested = total - row["skipped"] - row["not_checked"]
        caught = row["killed"] + row["timeout"]
        row["total"], row["score"] = total + row["equivalent"], round(caught / tested, 4) if tested else None
        row["survived_share"] = round(1 - caught / tested, 4) if tested else None
        out[m] = row
    return {"modules": out, "stale_equivalents": stale}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--read", action="store_true", help="only read the last run's results in mutants/")
    ap.add_argument("--module", action="append", choices=sorted(SCOPE), help="these modules only (repeatable)")
    args = ap.parse_args(argv)
    modules = args.module or list(SCOPE)
    seconds = None if args.read else run_mutmut(modules, fresh=args.module is None)
    result = score(modules)
    rows = result["modules"]
    print(f"{'module':10} {'killed':>7} {'timeout':>7} {'survived':>8} {'no tests':>8} {'equiv.':>6} {'score':>6}")
    for m, r in rows.items():
        print(f"{m:10} {r['killed']:7} {r['timeout']:7} {r['survived']:8} {r['no_tests']:8} {r['equivalent']:6} "
              f"{(r['score'] or 0):6.1%}")
        for name in r["survivors"]:
            print(f"    survived: {name}")
    for name in result["stale_equivalents"]:
        print(f"    stale equivalent (the tests now kill it, or its change differs from the list): {name}")
    ok = bool(rows) and all(r["survived_share"] is not None and r["survived_share"] <= TARGET for r in rows.values())
    print(json.dumps({"bench": "mutation_score", "tool": "mutmut", "seconds": seconds and round(seconds),
                      "target_survived_max": TARGET, "ok": ok, **result}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

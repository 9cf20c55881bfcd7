"""One run on 1 process against the same run on N processes (torchrun + DDP), same GLOBAL batch.

    python bench/bench_ddp.py [--seconds 15] [--models mlp,dcgan,wgan-gp] [--nproc 2] [--repeats 2]

For each model: `python -m gan_core train` as today (one process, no process group) and
`python -m torch.distributed.run --standalone --nproc_per_node N -m gan_core train` (each rank
batch/N), both for --seconds of training, alternated --repeats times so that a busy machine hurts
both alike. Prints steps/s and samples/s of each (training time only, from the run's summary; the
startup is printed apart, as wall seconds), the N-process / 1-process ratio (median), then one JSON line.

On CPUs the N processes share the cores the one process had (each gets cores/N threads), so the
ratio compares two ways of using the same cores, not more hardware; on a machine with N GPUs it
measures the scaling. On the CPU a third run, one process pinned to cores/N cores (`taskset`), is
the per-process baseline: N processes against it is the scaling from 1/N of the cores to all.
GAN_DEVICE picks the device as everywhere (cuda when there is one).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {  # the CLI's presets, fp32 (the CLI's default), scores off, no checkpoints in the middle
    "mlp": [],
    "dcgan": [],
    "wgan-gp": ["--width", "32", "--n-critic", "5"],
}


def one_run(model: str, nproc: int, seconds: float, out: Path, cores: str | None = None) -> dict:
    launcher = ([sys.executable, "-m", "gan_core"] if nproc == 1 else
                [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
                 "-m", "gan_core"])
    if cores is not None:  # pinned: available_cpus() sees these cores only, and sets that many threads
        launcher = ["taskset", "--cpu-list", cores, *launcher]
    cmd = [*launcher, "train", "--model", model, "--time-budget", str(seconds), "--no-score", "--save-every", "0",
           "--out", str(out), *SETTINGS[model]]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds * 10 + 300, check=False)
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    s = json.loads(r.stdout.strip().splitlines()[-1])
    import torch
    batch = torch.load(out / "trainer_state.pt", weights_only=True)["config"]["batch_size"]
    return {"steps": s["steps"], "train_seconds": s["train_seconds"], "steps_per_s": s["steps"] / s["train_seconds"],
            "samples_per_s": s["steps"] * batch / s["train_seconds"], "wall_s": wall, "batch": batch,
            "world_size": s.get("world_size", 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--models", default="mlp,dcgan,wgan-gp")
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    from gan_core.device import available_cpus
    cpus = available_cpus()
    pinned = None  # the per-process baseline on the CPU: one process on cores/N cores
    import torch
    device = os.environ.get("GAN_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu" and shutil.which("taskset") and cpus >= args.nproc:
        pinned = ",".join(map(str, sorted(os.sched_getaffinity(0))[:cpus // args.nproc]))
    pinned_n = len(pinned.split(",")) if pinned else 0
    results = {"cpus": cpus, "pinned_cores": pinned, "device": device, "nproc": args.nproc,
               "seconds_per_run": args.seconds, "load_before": os.getloadavg()[0], "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            runs = {1: [], args.nproc: [], "pinned": []}
            for i in range(args.repeats):
                order = [1, args.nproc] + (["pinned"] if pinned else [])
                for n in order if i % 2 == 0 else order[::-1]:
                    out = Path(tmp) / f"{model}-{n}-{i}"
                    runs[n].append(one_run(model, 1, args.seconds, out, pinned) if n == "pinned" else
                                   one_run(model, n, args.seconds, out))
            runs = {n: rs for n, rs in runs.items() if rs}
            med = {n: {k: statistics.median(r[k] for r in rs) for k in ("steps_per_s", "samples_per_s", "wall_s")}
                   for n, rs in runs.items()}
            ratio = med[args.nproc]["steps_per_s"] / med[1]["steps_per_s"]
            scaling = med[args.nproc]["steps_per_s"] / med["pinned"]["steps_per_s"] if pinned else None
            results["models"][model] = {
                "global_batch": runs[1][0]["batch"], "ratio": round(ratio, 3),
                "ratio_vs_pinned": round(scaling, 3) if scaling else None,
                **{(f"{n}proc" if n != "pinned" else f"1proc_on_{pinned_n}_cores"): {k: round(v, 2) for k, v in m.items()} | {"runs": [round(r["steps_per_s"], 2) for r in runs[n]]}
                   for n, m in med.items()}}
            print(f"{model:8s} batch {runs[1][0]['batch']:4d}   1 process {med[1]['steps_per_s']:7.1f} steps/s "
                  f"({med[1]['samples_per_s']:7.0f} samples/s)   {args.nproc} processes {med[args.nproc]['steps_per_s']:7.1f} "
                  f"steps/s ({med[args.nproc]['samples_per_s']:7.0f} samples/s)   ratio {ratio:.2f}x   "
                  + (f"1 process on {pinned_n} core(s) {med['pinned']['steps_per_s']:7.1f} steps/s -> {scaling:.2f}x   "
                     if pinned else "")
                  + f"startup+run wall {med[1]['wall_s']:.1f} / {med[args.nproc]['wall_s']:.1f} s", flush=True)
    results["load_after"] = os.getloadavg()[0]
    print(json.dumps(results))


if __name__ == "__main__":
    main()

"""A lone user's training speed on a server that has had a class: both compute threads exist.

The app's ComputeRuntime runs calls on one thread per core (ui/runtime.py). Threads start as needed,
so before any class a lone user's ticks all run on the one thread there is; after a class both exist,
and the threads take turns (concurrent.futures), so one run's ticks land on both, each with its own
OpenMP team. Two 2-thread teams on 2 cores made libgomp stop spinning at its barriers: 0.66x the
speed before the runtime freed a call's team when it returns (gan_core/compute.py). This bench
trains the default model alone through the runtime, each way, in fresh processes taking turns (the
Space's environment), and prints steps/s, the ratio (after a class / before) and JSON. A third way,
"rested": after the class the threads have rested and the app's idle sweeper has ended them
(ComputeRuntime.retire_threads), so the lone user starts on one fresh thread.

    python bench/bench_lone_after_class.py [--seconds 12] [--rounds 2]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

from gan_devkit.space import dockerfile_env


def one_run(after_class: bool, seconds: float, rested: bool = False) -> dict:
    import torch

    from gan_core.compute import ComputeRuntime
    from gan_core.data import load_mnist, mnist_tensor
    from gan_core.training import Trainer, TrainConfig, warm_up
    data, labels = mnist_tensor("train"), torch.tensor(load_mnist("train")[1]).long()
    runtime = ComputeRuntime(workers=2)
    runtime.run(warm_up, data[:256], labels[:256])
    if after_class:  # a second call while the first thread is busy starts the second thread
        gate = threading.Event()
        busy = threading.Thread(target=runtime.run, args=(gate.wait, 5))
        busy.start()
        runtime.run(warm_up, data[:256], labels[:256])
        gate.set()
        busy.join()
        if rested:  # what the app's idle sweeper does once the threads have rested 5 s
            runtime.retire_threads()
    trainer, used = Trainer(TrainConfig.preset("cdcgan", seed=0), data, labels=labels), set()

    def tick():
        used.add(threading.get_ident())
        trainer.step(10)
    for _ in range(5):
        runtime.run(tick)
    used.clear()
    start, began = trainer.iteration, time.perf_counter()
    while time.perf_counter() - began < seconds:
        runtime.run(tick)
        time.sleep(0.05)  # the page draws between two ticks
    rate = (trainer.iteration - start) / (time.perf_counter() - began)
    runtime.shutdown()
    return {"steps_per_s": round(rate, 1), "threads_used": len(used)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", choices=["before", "after", "rested"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_run(args.child != "before", args.seconds, rested=args.child == "rested")))
        return
    env = {**os.environ, **dockerfile_env()}  # the Space's (its allocator, OpenMP spinning, ...)
    runs = {"before": [], "after": [], "rested": []}
    for _ in range(args.rounds):
        for mode in runs:
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--seconds", str(args.seconds)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            runs[mode].append(json.loads(out.strip().splitlines()[-1]))
            print(mode, runs[mode][-1], flush=True)
    mean = {m: sum(r["steps_per_s"] for r in rs) / len(rs) for m, rs in runs.items()}
    ratio, rested = mean["after"] / mean["before"], mean["rested"] / mean["before"]
    print(f"a lone user after a class: {mean['after']:.1f} steps/s, before: {mean['before']:.1f}, ratio {ratio:.2f}; "
          f"once the threads rested (the idle sweeper ended them): {mean['rested']:.1f}, ratio {rested:.2f}")
    print(json.dumps({"before_class": runs["before"], "after_class": runs["after"], "after_class_rested": runs["rested"],
                      "ratio": round(ratio, 3), "ratio_rested": round(rested, 3)}))


if __name__ == "__main__":
    main()

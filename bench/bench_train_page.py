"""Speed of training inside the page vs the headless Trainer, in the same process and run.

    python bench/bench_train_page.py [--model dcgan] [--ticks 12]

The page is driven through Streamlit's AppTest: select the model, press Start, then each
at.run() is one tick (a full page rerun, so this is a conservative stand-in for the browser's
fragment-only rerun). Page steps/s = steps gained / wall time of those runs, everything included
(charts, sample grid, mode-collapse scoring). The headless baseline runs Trainer.step in the
same chunk size, alternating with blocks of page ticks (the machine may be shared).
Targets: ratio >= 0.8 and a tick <= 1 s wall on 2 cores. Prints a line per figure and one JSON.
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gentle_apptest_polling(interval: float = 0.02) -> None:
    """AppTest waits for a script run by polling every 1 ms; each poll grabs the GIL and wakes a core,
    which on 2 cores slows the script thread's training by a third. A browser-driven server has no
    such poller, so poll every `interval` s instead (adds at most that much to each tick's wall time)."""
    import streamlit.testing.v1.local_script_runner as lsr

    def require_widgets_deltas(runner, timeout: float = 3) -> None:
        t0 = time.time()
        while time.time() - t0 < timeout:
            time.sleep(interval)
            if runner.script_stopped():
                return
        runner.request_stop()
        runner.join()
        raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")
    lsr.require_widgets_deltas = require_widgets_deltas


def start_page(model: str):
    """An AppTest of the page with `model` selected, Start pressed and the tick size settled."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "views" / "2_train.py"), default_timeout=300)
    at.run()
    at.selectbox(key="train.w.model").set_value(model).run()
    at.button(key="train.start").click().run()  # first tick: builds the trainer, measures a step
    for _ in range(2):
        at.run()
    return at


def page_block(at, ticks: int) -> dict:
    sess = at.session_state["train.session"]
    i0, e0, walls = sess.trainer.iteration, sess.trainer.elapsed, []
    for _ in range(ticks):
        t0 = time.perf_counter()
        at.run()
        walls.append(time.perf_counter() - t0)
    assert not at.exception, [e.value for e in at.exception]
    return {"steps": sess.trainer.iteration - i0, "train_s": sess.trainer.elapsed - e0, "walls": walls}


def headless_block(tr, steps: int, chunk: int) -> dict:
    i0, w0 = tr.iteration, time.perf_counter()
    while tr.iteration - i0 < steps:
        tr.step(min(chunk, steps - (tr.iteration - i0)))
    return {"steps": tr.iteration - i0, "wall_s": time.perf_counter() - w0}


def on_compute_thread(fn, *args, user):
    """The headless side runs on the app's compute thread too (the page session's runtime): like a
    plain script, all of its torch work then stays in one thread (the page's ticks go there as well;
    see gan_core/compute.py). It runs as the page's own user: one student alternating, not a second."""
    return user.runtime.run(fn, *args, user=user)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="default: gan_core.registry.DEFAULT_MODEL")
    ap.add_argument("--ticks", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3, help="alternating page/headless blocks")
    ap.add_argument("--fast-poll", action="store_true", help="keep AppTest's 1 ms polling (its own overhead counted)")
    args = ap.parse_args(argv)
    import torch

    from gan_core.data import load_mnist, mnist_tensor
    from gan_core.device import describe, get_device
    from gan_core.registry import DEFAULT_MODEL
    from gan_core.training import TrainConfig, Trainer
    model = args.model or DEFAULT_MODEL
    if not args.fast_poll:
        gentle_apptest_polling()
    at = start_page(model)
    sess = at.session_state["train.session"]
    data = on_compute_thread(mnist_tensor, "train", user=sess)
    cfg = TrainConfig.preset(model)
    labels = torch.from_numpy(load_mnist("train")[1].astype("int64")) if cfg.num_classes else None
    tr = on_compute_thread(lambda: Trainer(cfg, data, labels=labels), user=sess)
    on_compute_thread(tr.step, 2, user=sess)  # warm-up: first calls allocate
    # Alternate page and headless blocks, so load from others on a shared machine hits both alike.
    walls, p_steps, p_train, h_steps, h_wall = [], 0, 0.0, 0, 0.0
    for _ in range(args.rounds):
        pb = page_block(at, args.ticks // args.rounds)
        hb = on_compute_thread(headless_block, tr, pb["steps"], sess.k, user=sess)
        walls += pb["walls"]
        p_steps, p_train = p_steps + pb["steps"], p_train + pb["train_s"]
        h_steps, h_wall = h_steps + hb["steps"], h_wall + hb["wall_s"]
    page_sps, base = p_steps / sum(walls), h_steps / h_wall
    out = {"model": model, "device": str(describe(get_device())), "ticks": len(walls),
           "page_steps_per_s": round(page_sps, 2), "headless_steps_per_s": round(base, 2),
           "ratio": round(page_sps / base, 3), "steps_per_tick": sess.k,
           "tick_wall_median_s": round(statistics.median(walls), 3), "tick_wall_max_s": round(max(walls), 3),
           "train_share_of_page_wall": round(p_train / sum(walls), 3),
           "meets_ratio_0.8": page_sps / base >= 0.8, "meets_tick_1s": max(walls) <= 1.0,
           "load_avg_1m": round(os.getloadavg()[0], 2)}
    print(f"{model}: page {out['page_steps_per_s']} steps/s vs headless {out['headless_steps_per_s']} "
          f"-> ratio {out['ratio']}; tick median {out['tick_wall_median_s']} s, max {out['tick_wall_max_s']} s "
          f"({out['steps_per_tick']} steps/tick) on {out['device']}, load {out['load_avg_1m']}")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

"""What the browser costs the training it shows: the curves redrawn every tick vs on a 2 s clock.

One `streamlit run app.py` per setting (GAN_CHART_INTERVAL_S), one Chromium session training the
default model; after --warm s, for --seconds: the renderer's main-thread busy time (Chrome DevTools
Protocol, Performance.getMetrics TaskDuration), all Chromium processes' and the server's CPU
(/proc), and steps/s from the page's own step counter. Settings alternate for --rounds rounds (the
machine may be shared). Prints one line per run, medians, the ratio and one JSON line.

    python bench/bench_browser_cost.py [--rounds 2] [--seconds 15] [--intervals 0.2 2.0]
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from gan_devkit import browser as harness

ROOT = Path(__file__).resolve().parents[1]

EN = json.loads((ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pid: int) -> dict:
    """CPU seconds so far of every Chromium process, and of the server."""
    out = {"chromium": 0.0, "server": 0.0}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / HZ  # utime + stime
        if "chrom" in name.lower():
            out["chromium"] += seconds
        elif int(d) == server_pid:
            out["server"] += seconds
    return out


def one_run(interval: float, warm: float, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright
    proc, url = harness.start_streamlit(env={"GAN_CHART_INTERVAL_S": str(interval)})
    try:
        harness.wait_health(url, proc)
        with sync_playwright() as p:
            browser = harness.launch_chromium(p)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            harness.goto(page, url, "train")
            cdp = ctx.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.get_by_role("button", name=EN["train.start"]).click()
            time.sleep(warm)

            def task_s():
                return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")
            t0, task0, cpu0 = time.perf_counter(), task_s(), cpu_seconds(proc.pid)
            steps0 = harness.metric_int(page, EN["train.steps"])
            time.sleep(seconds)
            steps1 = harness.metric_int(page, EN["train.steps"])
            dt, task1, cpu1 = time.perf_counter() - t0, task_s(), cpu_seconds(proc.pid)
            harness.assert_no_exception(page)
            browser.close()
    finally:
        harness.stop(proc)
    return {"chart_interval_s": interval, "steps_per_s": round((steps1 - steps0) / dt, 1),
            "renderer_main_thread_busy": round((task1 - task0) / dt, 3),
            "chromium_cores": round((cpu1["chromium"] - cpu0["chromium"]) / dt, 2),
            "server_cores": round((cpu1["server"] - cpu0["server"]) / dt, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warm", type=float, default=3.0, help="seconds of training before measuring")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--intervals", type=float, nargs=2, default=[0.2, 2.0],
                    help="baseline and ours: chart redraw interval (0.2 = every tick)")
    args = ap.parse_args()
    harness.require_browser()
    runs = []
    for _ in range(args.rounds):
        for interval in args.intervals:
            runs.append(one_run(interval, args.warm, args.seconds))
            print(json.dumps(runs[-1]), file=sys.stderr)

    def med(interval, key):
        return round(statistics.median(r[key] for r in runs if r["chart_interval_s"] == interval), 3)
    base, ours = args.intervals
    keys = ("steps_per_s", "renderer_main_thread_busy", "chromium_cores", "server_cores")
    result = {"bench": "browser_cost", "cpus": len(os.sched_getaffinity(0)), "runs": runs,
              "baseline": {k: med(base, k) for k in keys}, "ours": {k: med(ours, k) for k in keys}}
    result["steps_ratio"] = round(result["ours"]["steps_per_s"] / result["baseline"]["steps_per_s"], 2)
    print(f"curves every {base} s: {result['baseline']['steps_per_s']} steps/s, Chromium "
          f"{result['baseline']['chromium_cores']} cores; every {ours} s: {result['ours']['steps_per_s']} steps/s, "
          f"Chromium {result['ours']['chromium_cores']} cores -> steps ratio {result['steps_ratio']} "
          f"(medians of {args.rounds})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

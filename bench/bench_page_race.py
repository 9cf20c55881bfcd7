"""The VAE vs GAN race in a browser on the same CPUs: the GAN's steps with the training page's
ThreadTrial (gan_core.compute: a tick starved of its CPUs makes the next one try one intra-op thread,
which holds for 10 s where it trained faster) against without it (GAN_STARVED_WAIT=off).

One `streamlit run app.py` per setting, one Chromium session on the training page: the "VAE vs GAN"
panel switched on (--versus off: left off), Start, --seconds of training, Pause. Then the GAN's steps
(the page's step counter) and, racing, the VAE's steps and both sides' training seconds (the panel's
captions), and the CPU of all Chromium processes and of the server over the run (/proc). Settings
alternate for --rounds rounds (the machine may be shared). Prints one line per run, medians, the ratio
of the GAN's steps (ours / baseline) and one JSON line.

    python bench/bench_page_race.py [--rounds 2] [--seconds 12] [--versus on|off]
"""
import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

from bench_browser_cost import cpu_seconds  # bench/ is the script's folder: run as python bench/bench_page_race.py
from gan_core import registry
from gan_devkit import browser as harness

ROOT = Path(__file__).resolve().parents[1]
EN = json.loads((ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
SETTINGS = {"baseline": "off", "ours": ""}  # GAN_STARVED_WAIT: off = never starved; "" = the default


def caption_numbers(captions: list[str], template: str, model: str = "") -> tuple[float, int] | None:
    """(seconds, step) from the caption written with a locale template like "{model}: {seconds} s ... {step}"."""
    pattern = (re.escape(template).replace(r"\{seconds\}", r"([\d.]+)").replace(r"\{step\}", r"(\d+)")
               .replace(r"\{model\}", re.escape(model)))
    for text in captions:
        m = re.fullmatch(pattern, text.strip())
        if m:
            return float(m.group(1)), int(m.group(2))
    return None


def one_run(setting: str, seconds: float, versus: bool) -> dict:
    from playwright.sync_api import sync_playwright
    proc, url = harness.start_streamlit(env={"GAN_STARVED_WAIT": SETTINGS[setting]})
    try:
        harness.wait_health(url, proc)
        with sync_playwright() as p:
            browser = harness.launch_chromium(p)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            harness.goto(page, url, "train")
            if versus:
                page.get_by_text(EN["versus.title"], exact=True).click()
                harness.wait_for_run(page)
                page.get_by_text(EN["versus.toggle"], exact=True).click()
                harness.wait_for_run(page)
            t0, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
            page.get_by_role("button", name=EN["train.start"]).click()
            page.wait_for_timeout(seconds * 1000)
            page.get_by_role("button", name=EN["train.pause"]).click()
            dt, cpu1 = time.perf_counter() - t0, cpu_seconds(proc.pid)
            harness.wait_for_run(page)
            page.wait_for_timeout(1500)  # the panel's last redraw
            steps = harness.metric_int(page, EN["train.steps"])
            captions = page.locator("[data-testid=stImageCaption]").all_inner_texts()
            harness.assert_no_exception(page)
            browser.close()
    finally:
        harness.stop(proc)
    run = {"setting": setting, "versus": versus, "gan_steps": steps,
           "chromium_cores": round((cpu1["chromium"] - cpu0["chromium"]) / dt, 2),
           "server_cores": round((cpu1["server"] - cpu0["server"]) / dt, 2)}
    if versus:
        gan_name = EN[registry.get(registry.DEFAULT_MODEL).locale_key]  # the page's default model races
        vae, gan = (caption_numbers(captions, EN["versus.vae_caption"]),
                    caption_numbers(captions, EN["versus.gan_caption"], gan_name))
        if vae is None or gan is None:
            raise SystemExit(f"the race's captions were not found: {captions}")
        run.update(vae_steps=vae[1], vae_train_s=vae[0], gan_train_s=gan[0])
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=12.0, help="of Start before Pause")
    ap.add_argument("--versus", choices=("on", "off"), default="on", help="race the VAE beside the GAN")
    args = ap.parse_args()
    harness.require_browser()
    runs = []
    for _ in range(args.rounds):
        for setting in SETTINGS:
            runs.append(one_run(setting, args.seconds, args.versus == "on"))
            print(json.dumps(runs[-1]), file=sys.stderr)
    keys = [k for k in runs[0] if k not in ("setting", "versus")]

    def med(setting, key):
        return round(statistics.median(r[key] for r in runs if r["setting"] == setting), 2)
    result = {"bench": "page_race", "cpus": len(os.sched_getaffinity(0)), "seconds": args.seconds,
              "versus": args.versus == "on", "runs": runs,
              **{s: {k: med(s, k) for k in keys} for s in SETTINGS}}
    result["gan_steps_ratio"] = round(result["ours"]["gan_steps"] / max(result["baseline"]["gan_steps"], 1), 2)
    print(f"{args.seconds:g} s of Start, VAE racing: {args.versus}. GAN steps: with the thread trial "
          f"{result['ours']['gan_steps']:g}, two threads always {result['baseline']['gan_steps']:g} -> ratio "
          f"{result['gan_steps_ratio']} (medians of {args.rounds})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

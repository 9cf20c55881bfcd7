"""A whole class on one 2-core server: 30 sessions on the training page, as the public Space runs it.

One `streamlit run app.py` with the Space's environment (the Dockerfile's ENV: GAN_PUBLIC=1,
GOMP_SPINCOUNT=10000, MALLOC_ARENA_MAX=2, ...; XSRF off), driven by
light clients that speak Streamlit's own websocket protocol (gan_devkit.st_client: widget ids,
button clicks, every st.fragment's run_every clock; no drawing), so 30 fit beside the server.

1. Baseline, same run: one session alone presses Start and trains for --baseline-seconds.
2. The class: the teacher opens the page, shares the run (a class code) and presses Start; then,
   a moment apart, --trainers students press Start on runs of their own (the seats fill, the rest
   queue; a student whose turn ended presses Resume again, as an eager one would) and all the
   other students open the teacher's link and watch. For --seconds.
3. Everyone closes the tab; after the server's disconnected-session TTL a new visitor arrives
   (the server forgets closed sessions when it next touches its session store) and leaves; memory is
   read 12 s later, once the server's idle sweeper has run. Idle is read the same way, after the
   first visitor (who loads the shared models) is forgotten.
4. --classes 2 (default): the next class does the same on the same server. Memory after the first
   class holds the server's one-time warm-up (modules a page imports on first use, oneDNN's kernels,
   the allocator's arenas); what a later class adds is what a class leaves behind.
5. One session alone again, after the classes, as in 1. The throughput target's reference is the mean of the two
   lone runs around the classes: this machine's speed drifts by 20-30% within minutes, and one lone reading
   before the classes set the reference alone until 2026-12-05 (`ratio_vs_before` keeps that figure). The second
   lone run is also the lone user on a server that has had a class (bench_lone_after_class.py's question).

Prints one JSON object: sessions, errors, rss_idle_mb, rss_warm_idle_mb (idle again after the baseline's
run is forgotten: what one run leaves imported and cached), rss_peak_mb, rss_after_close_mb (and after each
class, rss_growth_per_class_mb),
active_tick_p95_s (a training session's fragment request -> answer, what its student waits for
the next picture), watch_tick_p95_s, max_queue_wait_s, queued_got_a_run, aggregate_steps_per_s (and
each class's: aggregate_steps_per_s_each_class),
single_session_steps_per_s (before the classes; single_session_after_steps_per_s after them), the same in digits
(aggregate_digits_per_s, single_session_digits_per_s, ...), ratio (the first class's digits/s against the mean of the
two lone runs'; ratio_vs_before against the first alone; ratio_each_class), pass. Digits, not steps, since the
default's batch doubles at its cut (2026-12-06): a lone run's steps after it are twice the work of a class's before it.

    python bench/bench_classroom.py [--sessions 30] [--trainers 5] [--seconds 90] [--turn 20]
"""
import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from gan_core import registry
from gan_core.config import TrainConfig
from gan_devkit import browser as harness
from gan_devkit.space import dockerfile_env
from gan_devkit.st_client import StreamlitTab

ROOT = Path(__file__).resolve().parents[1]
EN = json.loads((ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
STATUS, STEPS = EN["train.status"], EN["train.steps"]
RUNNING, PAUSED = EN["train.status.running"], EN["train.status.paused"]
TARGETS = {"rss_peak_mb": 2048, "active_tick_p95_s": 2.0, "ratio": 0.8, "rss_back_mb": 64}
# What Start trains: the default's preset, whose batch doubles at its cut (lr_cut_batch). A lone run passes the cut
# within its 30 s on a fast CPU while a class's runs share the cores and may not: their steps are not the same work.
RUN = TrainConfig.preset(registry.DEFAULT_MODEL)


def steps(tab: StreamlitTab) -> int:
    return int(tab.metrics.get(STEPS, "0").replace(",", "") or 0)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else float("nan"))


async def open_tab(url: str, query: str = "") -> StreamlitTab:
    tab = StreamlitTab(url, page="train", query=query)
    await tab.open()
    # the whole first run, not its first widget: the page draws Start before the class panel below it
    await tab.until(lambda t: ("train.start" in t.widgets or "class.leave" in t.widgets) and t.answered, timeout=300)
    return tab


def digits(from_step: int, to_step: int) -> int:
    """The digits a run trained on between two step counts (RUN's batch, grown at its cut)."""
    return RUN.samples_in(to_step) - RUN.samples_in(from_step)


async def baseline(url: str, seconds: float) -> tuple[float, float]:
    """One session alone: its steps/s and digits/s."""
    tab = await open_tab(url)
    await tab.click("train.start")
    await tab.until(lambda t: steps(t) > 0)
    s0, t0 = steps(tab), time.monotonic()
    await asyncio.sleep(seconds)
    s1, elapsed = steps(tab), time.monotonic() - t0
    await tab.click("train.pause")
    await tab.close()
    return (s1 - s0) / elapsed, digits(s0, s1) / elapsed


def throughput_ratios(class_rates: list[float], before: float, after: float) -> dict:
    """Each class's aggregate throughput (digits/s since 2026-12-06, steps/s before) against one session alone:
    against the mean of the lone runs before and after the classes (the target's reference), and against the one
    before only (every figure until 2026-12-05)."""
    def against(lone: float) -> list[float]:
        return [round(r / lone, 3) if lone else 0.0 for r in class_rates]  # a lone run that trained nothing fails
    each, each_vs_before = against((before + after) / 2), against(before)
    return {"ratio": each[0], "ratio_each_class": each,
            "ratio_vs_before": each_vs_before[0], "ratio_vs_before_each_class": each_vs_before}


async def forgotten(url: str, ttl: float, pid: int) -> float:
    """RSS once the closed tabs are past the server's session TTL and forgotten, and the server's
    idle sweeper (every 5 s while its compute threads rest, ui/runtime.py) has had time to run."""
    await asyncio.sleep(ttl + 5)
    late = await open_tab(url)  # touches the session store: closed sessions past their TTL go
    await late.close()
    await asyncio.sleep(12)
    return harness.rss_mb(pid)


class Trainer:
    """A student with a run of their own: Start, wait in line if need be, Resume when a turn ends."""

    def __init__(self, tab: StreamlitTab):
        self.tab, self.clicked, self.started, self.waits, self.high = tab, None, None, [], 0

    async def start(self) -> None:
        self.clicked = time.monotonic()
        await self.tab.click("train.start")

    async def follow(self, stop_at: float) -> None:
        while time.monotonic() < stop_at and not self.tab.closed_by_server:
            status = self.tab.metrics.get(STATUS)
            self.high = max(self.high, steps(self.tab))
            if status == RUNNING and self.clicked is not None:
                self.waits.append(time.monotonic() - self.clicked)
                self.clicked = None
            elif status == PAUSED and self.clicked is None:  # the turn ended: back in line
                await self.start()
            await asyncio.sleep(0.25)


async def the_class(url: str, n: int, trainers: int, seconds: float) -> dict:
    teacher_tab = await open_tab(url)
    await teacher_tab.click("class.share")
    await teacher_tab.until(lambda t: any("?class=" in c for c in t.codes))
    code = next(c for c in teacher_tab.codes if "?class=" in c).split("?class=", 1)[1].strip()
    teacher = Trainer(teacher_tab)
    await teacher.start()

    students, watchers = [], []
    for i in range(n - 1):  # arriving a moment apart, as a class does
        if i < trainers:
            student = Trainer(await open_tab(url))
            await student.start()
            students.append(student)
        else:
            watchers.append(await open_tab(url, query=f"class={code}"))
        await asyncio.sleep(0.2)
    t0 = time.monotonic()
    start_high = {id(s): steps(s.tab) for s in [teacher, *students]}
    follow_end = t0 + seconds
    await asyncio.gather(*(s.follow(follow_end) for s in [teacher, *students]))
    elapsed = time.monotonic() - t0
    trained = sum(s.high - start_high[id(s)] for s in [teacher, *students])
    trained_digits = sum(digits(start_high[id(s)], s.high) for s in [teacher, *students])
    tabs = [teacher_tab, *(s.tab for s in students), *watchers]
    out = {
        "tabs": tabs,
        "aggregate_steps_per_s": trained / elapsed,
        "aggregate_digits_per_s": trained_digits / elapsed,
        "teacher_steps_per_s": (teacher.high - start_high[id(teacher)]) / elapsed,
        "active_ticks": [d for s in [teacher, *students] for fid, d in s.tab.latencies if fid],
        "watch_ticks": [d for w in watchers for fid, d in w.latencies if fid],
        "waits": [w for s in students for w in s.waits],
        "queued_got_a_run": all(s.waits for s in students),
        "watchers_saw_the_run": sum(steps(w) > 0 for w in watchers),
        "watchers": len(watchers),
        "students": [{"steps": s.high - start_high[id(s)], "waits_s": [round(w, 1) for w in s.waits],
                      "status": s.tab.metrics.get(STATUS)} for s in students],
    }
    for tab in tabs:
        await tab.close()
    return out


async def main_async(args, url: str, rss: harness.RssSampler) -> dict:
    warm = await open_tab(url)  # the shared models load once (st.cache_resource): part of idle
    await warm.close()
    rss_idle = await forgotten(url, args.ttl, rss.pid)  # measured as every later figure: no session left
    single, single_digits = await baseline(url, args.baseline_seconds)
    rss_warm = await forgotten(url, args.ttl, rss.pid)  # idle again, after one run: what trained once stays imported
    rss_after = []  # after each class has closed: the first holds the server's warm-up, a later one any leak
    rates, digit_rates = [], []  # each class's aggregate steps/s and digits/s: the spread between classes
    for lesson in range(args.classes):
        run = await the_class(url, args.sessions, args.trainers, args.seconds)
        rates.append(round(run["aggregate_steps_per_s"], 2))
        digit_rates.append(round(run["aggregate_digits_per_s"], 1))
        result = run if lesson == 0 else result  # the figures are the first class's; errors count every class
        tabs = [*(tabs if lesson else []), *run["tabs"]]
        rss_after.append(round(await forgotten(url, args.ttl, rss.pid), 1))
    single_after, single_after_digits = await baseline(url, args.baseline_seconds)
    result.pop("tabs")
    errors = {
        "exceptions": sum(len(t.exceptions) for t in tabs),
        "page_not_found": sum(t.page_not_found for t in tabs),
        "dropped_by_server": sum(t.dropped for t in tabs),
        "unanswered_requests": sum(t.lost for t in tabs),
        "watchers_without_the_run": result["watchers"] - result.pop("watchers_saw_the_run"),
        "students_never_ran": 0 if result["queued_got_a_run"] else 1,
    }
    out = {
        "sessions": args.sessions, "trainers": args.trainers + 1, "watchers": result.pop("watchers"),
        "seconds": args.seconds, "turn_s": args.turn,
        "errors": sum(errors.values()), "error_kinds": errors,
        "rss_idle_mb": round(rss_idle, 1), "rss_peak_mb": round(max(m for _, m in rss.samples), 1),
        "rss_warm_idle_mb": round(rss_warm, 1),
        "rss_after_close_mb": rss_after[0],
        "rss_after_each_class_mb": rss_after,
        "rss_growth_per_class_mb": round((rss_after[-1] - rss_after[0]) / (len(rss_after) - 1), 1) if len(rss_after) > 1 else None,
        "active_tick_p95_s": round(p95(result.pop("active_ticks")), 3),
        "watch_tick_p95_s": round(p95(result.pop("watch_ticks")), 3),
        "max_queue_wait_s": round(max(result["waits"], default=0.0), 1),
        "queued_got_a_run": result.pop("queued_got_a_run"),
        "aggregate_steps_per_s": round(result.pop("aggregate_steps_per_s"), 2),
        "aggregate_steps_per_s_each_class": rates,
        "teacher_steps_per_s": round(result.pop("teacher_steps_per_s"), 2),
        "single_session_steps_per_s": round(single, 2),
        "single_session_after_steps_per_s": round(single_after, 2),
        "aggregate_digits_per_s": round(result.pop("aggregate_digits_per_s"), 1),
        "aggregate_digits_per_s_each_class": digit_rates,
        "single_session_digits_per_s": round(single_digits, 1),
        "single_session_after_digits_per_s": round(single_after_digits, 1),
        "students": result.pop("students"),
    }
    out.update(throughput_ratios(digit_rates, single_digits, single_after_digits))
    out["pass"] = bool(out["errors"] == 0 and out["queued_got_a_run"]
                       and out["rss_peak_mb"] <= TARGETS["rss_peak_mb"]
                       and out["active_tick_p95_s"] <= TARGETS["active_tick_p95_s"]
                       and out["ratio"] >= TARGETS["ratio"]
                       and out["rss_after_close_mb"] <= out["rss_idle_mb"] + TARGETS["rss_back_mb"])
    out["targets"] = TARGETS
    return out


def server_env(args) -> dict:
    """The Space's environment (its Dockerfile), the turn length, and --env changes on top."""
    env = {**dockerfile_env(), "GAN_TURN_S": str(args.turn)}
    for kv in args.env:
        key, value = kv.split("=", 1)
        env[key] = value
    return {k: v for k, v in env.items() if v != ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--trainers", type=int, default=5, help="students with runs of their own (besides the teacher)")
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--baseline-seconds", type=float, default=30)
    ap.add_argument("--turn", type=float, default=20, help="GAN_TURN_S: a turn while others wait")
    ap.add_argument("--ttl", type=int, default=15, help="server.disconnectedSessionTTL for the run")
    ap.add_argument("--classes", type=int, default=2,
                    help="classes one after another: memory after the first shows the warm-up, after the next any leak")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="server environment on top of the Dockerfile's (KEY= removes KEY), e.g. GOMP_SPINCOUNT=10000")
    args = ap.parse_args()
    log = harness.ARTIFACTS / "bench-classroom-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc, url = harness.start_streamlit_with_args(
        ["--server.enableXsrfProtection", "false", "--server.disconnectedSessionTTL", str(args.ttl)],
        log_path=log, env=server_env(args))
    rss = None
    try:
        harness.wait_health(url, proc, timeout=120)
        rss = harness.RssSampler(proc.pid)
        rss.start()
        print(json.dumps(asyncio.run(main_async(args, url, rss))))
    finally:
        if rss:
            rss.stop()
        harness.stop(proc)


if __name__ == "__main__":
    main()

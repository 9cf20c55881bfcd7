"""gan_core.compute: every heavy call lands on the runtime's persistent threads, whoever makes it.

Each test owns its ComputeRuntime (public API only), so no test resets another's state."""
import threading
import time

import pytest

from gan_core import compute
from gan_core.compute import ComputeRuntime


@pytest.fixture
def rt():
    runtime = ComputeRuntime()
    yield runtime
    runtime.shutdown()


def _hold_a_thread(rt) -> tuple[threading.Thread, threading.Event]:
    """A call that keeps one compute thread busy until the returned event is set (join the thread)."""
    gate, started = threading.Event(), threading.Event()

    def blocker():
        started.set()
        gate.wait(5)

    caller = threading.Thread(target=rt.run, args=(blocker,))
    caller.start()
    assert started.wait(5)
    return caller, gate


def _wait_for_queue(rt, n: int, timeout: float = 5.0) -> None:
    """Until n calls are queued on the compute thread (threads just started take a moment)."""
    for _ in range(int(timeout / 0.01)):
        if rt.waiting() == n:
            return
        threading.Event().wait(0.01)


def test_calls_from_many_threads_run_on_one_other_thread(rt):
    seen = []

    def record():
        seen.append(threading.get_ident())
        return len(seen)

    threads = [threading.Thread(target=rt.run, args=(record,)) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rt.run(record)
    assert len(seen) == 7 and len(set(seen)) == 1
    assert seen[0] != threading.get_ident() and seen[0] not in {th.ident for th in threads}


def test_results_exceptions_and_reentrancy(rt):
    assert rt.run(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        rt.run(lambda: 1 / 0)
    # a call made from the compute thread runs inline instead of waiting for itself
    assert rt.run(lambda: rt.run(rt.on_compute_thread)) is True
    assert not rt.on_compute_thread()


def test_waiting_counts_queued_calls(rt):
    counts = []
    first, gate = _hold_a_thread(rt)
    queued = [threading.Thread(target=rt.run, args=(lambda: counts.append(rt.waiting()),)) for _ in range(3)]
    for th in queued:
        th.start()
    _wait_for_queue(rt, 3)
    assert rt.waiting() == 3
    gate.set()
    for th in [first, *queued]:
        th.join()
    assert sorted(counts) == [0, 1, 2] and rt.waiting() == 0


def test_one_intra_op_thread_while_others_queue():
    import torch
    rt = ComputeRuntime(active_window_s=0.0)  # the queue only (recent users: next test)
    full = rt.run(torch.get_num_threads)
    if full == 1:
        pytest.skip("a one-CPU machine has nothing to shrink")
    gate, started, seen = threading.Event(), threading.Event(), []

    def blocker():
        started.set()
        gate.wait(5)

    threads = [threading.Thread(target=rt.run, args=(blocker,))]
    threads[0].start()
    assert started.wait(5)
    for _ in range(2):
        threads.append(threading.Thread(target=rt.run, args=(lambda: seen.append(torch.get_num_threads()),)))
        threads[-1].start()
        _wait_for_queue(rt, len(threads) - 1)
    gate.set()
    for th in threads:
        th.join()
    assert seen == [1, full]  # the first ran with one more call behind it; the last ran alone
    assert rt.run(torch.get_num_threads) == full


def test_recent_users_count_until_their_window_passes(rt):
    """A session drawing its page between two ticks is not in the queue, but it still shares the
    thread (and the cores): share() and the thread count see it for active_window_s."""
    import time
    import torch
    full = rt.run(torch.get_num_threads)
    users = [object() for _ in range(3)]
    for u in users:
        rt.run(lambda: None, user=u)
    assert rt.active_users() == 4 and rt.share() == 4  # three users and this thread
    rt.run(lambda: None, user=users[0])
    assert rt.active_users() == 4, "a user counts once, however often it calls"
    assert rt.run(torch.get_num_threads) == min(full, 1)
    rt.active_window_s = 0.05
    time.sleep(0.1)
    assert rt.active_users() == 0 and rt.share() == 1
    assert rt.run(torch.get_num_threads) == full, "alone again: all threads"


def test_release_thread_pool_frees_and_torch_still_works():
    import os
    import time

    import torch
    openmp = "OpenMP" in torch.__config__.parallel_info()

    def threads():  # this process's threads (Linux); None elsewhere
        return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
    n_torch = torch.get_num_threads()
    x = torch.rand(512, 512)
    (x @ x).sum()  # a parallel op: this thread now owns an OpenMP team (where torch uses OpenMP)
    with_team = threads()
    released = compute.release_thread_pool()
    assert released is openmp, "True exactly where torch runs on OpenMP (its runtime must be found)"
    if openmp and with_team is not None and n_torch > 1:
        time.sleep(0.05)
        assert threads() < with_team, "the OpenMP worker threads are gone"
    assert torch.allclose((x @ x).sum(), (x @ x).sum())  # the team comes back on the next op
    assert torch.get_num_threads() == n_torch, "releasing the pool does not change the thread count"


def test_two_runtimes_have_their_own_thread_and_queue():
    a, b = ComputeRuntime(), ComputeRuntime()
    try:
        ta, tb = a.run(threading.get_ident), b.run(threading.get_ident)
        assert ta != tb and a.run(a.on_compute_thread) and not a.run(b.on_compute_thread)
        a.run(lambda: None, user="x")
        assert a.active_users() >= 1 and b.active_users() == 1  # b saw only this thread
    finally:
        a.shutdown()
        b.shutdown()


def _gate():
    """(blocker, started list, release): a call that records its thread and waits until released."""
    gate, started = threading.Event(), []

    def blocker():
        started.append(threading.get_ident())
        gate.wait(5)
        return threading.get_ident()
    return blocker, started, gate


def test_two_workers_run_two_users_side_by_side():
    """Two users' calls run at once on two different compute threads; a third waits for a free one."""
    import time
    rt = ComputeRuntime(workers=2)
    try:
        blocker, started, gate = _gate()
        threads = [threading.Thread(target=rt.run, args=(blocker,)) for _ in range(3)]
        for th in threads:
            th.start()
        for _ in range(500):
            if len(started) == 2 and rt.waiting() == 1:
                break
            time.sleep(0.01)
        assert len(started) == 2 and len(set(started)) == 2, "both workers busy at once"
        assert rt.waiting() == 1, "the third call waits: two workers, not three"
        gate.set()
        for th in threads:
            th.join()
        assert len(set(started)) == 2 and threading.get_ident() not in started
        assert rt.run(rt.on_compute_thread) and not rt.on_compute_thread()
    finally:
        gate.set()
        rt.shutdown()


def test_callers_waiting_for_a_thread_get_one_first_come_first_served(rt):
    caller, gate = _hold_a_thread(rt)
    order, callers = [], []
    for i in range(4):
        th = threading.Thread(target=rt.run, args=(order.append, i))
        th.start()
        callers.append(th)
        _wait_for_queue(rt, i + 1)
    assert rt.waiting() == 4
    gate.set()
    for th in [caller, *callers]:
        th.join()
    assert order == [0, 1, 2, 3]


def test_once_two_compute_threads_exist_no_openmp_team_outlives_its_call():
    """Two teams alive on 2 cores make libgomp stop spinning (a lone user then trained a third
    slower, bench/bench_lone_after_class.py): after a second compute thread starts, every call frees
    its team when it returns; while there is one compute thread, its team stays (it slows no one)."""
    import os
    import time

    import torch
    if torch.get_num_threads() < 2 or "OpenMP" not in torch.__config__.parallel_info() \
            or not os.path.isdir("/proc/self/task"):
        pytest.skip("needs OpenMP teams of 2+ threads and Linux's /proc to count them")
    x = torch.rand(512, 512)

    def threads():
        return len(os.listdir("/proc/self/task"))

    def matmul_then_count():
        (x @ x).sum()  # a parallel op: this compute thread's team is up
        return threads()
    rt = ComputeRuntime(workers=2, active_window_s=0.0)  # every call alone: all intra-op threads
    try:
        inside = rt.run(matmul_then_count)
        time.sleep(0.05)
        assert threads() == inside, "one compute thread: its team stays between calls"
        caller, gate = _hold_a_thread(rt)
        rt.run(matmul_then_count)  # the first thread is busy: this starts the second
        gate.set()
        caller.join()
        for _ in range(4):
            inside = rt.run(matmul_then_count)
            time.sleep(0.05)
            assert threads() == inside - (torch.get_num_threads() - 1), "the call's team is gone when it returns"
    finally:
        rt.shutdown()


def test_share_is_per_worker():
    """A tick's share of its time: users per compute thread (never below one), not rounded."""
    users = [object() for _ in range(5)]
    rt = ComputeRuntime(workers=2, active_window_s=60.0)
    try:
        rt.run(lambda: None, user=users[0])
        assert rt.share() == 1  # one user on two threads: a whole thread
        rt.run(lambda: None, user=users[1])
        assert rt.share() == 1  # two users, one thread each
        rt.run(lambda: None, user=users[2])
        assert rt.share() == 1.5  # three users on two threads: ticks of 2/3 the time, not half
        for u in users[3:]:
            rt.run(lambda: None, user=u)
        assert rt.share() == 2.5
    finally:
        rt.shutdown()


def test_each_worker_takes_one_intra_op_thread_while_shared_and_all_alone():
    import torch
    rt = ComputeRuntime(workers=2, active_window_s=60.0)
    try:
        full = rt.run(torch.get_num_threads, user="a")
        if full == 1:
            pytest.skip("a one-CPU machine has nothing to shrink")
        rt.run(lambda: None, user="b")
        _, started, gate = _gate()
        seen = []

        def count():
            started.append(threading.get_ident())
            seen.append((threading.get_ident(), torch.get_num_threads()))
            gate.wait(5)
        threads = [threading.Thread(target=rt.run, args=(count,), kwargs={"user": u}) for u in ("a", "b")]
        for th in threads:
            th.start()
        for th in threads:
            th.join(0.5)
        gate.set()
        for th in threads:
            th.join()
        assert len({ident for ident, _ in seen}) == 2 and [n for _, n in seen] == [1, 1]
        rt.active_window_s = 0.0
        assert {rt.run(torch.get_num_threads) for _ in range(4)} == {full}, "alone again: all threads, on either worker"
    finally:
        gate.set()
        rt.shutdown()


def test_a_call_may_ask_for_fewer_intra_op_threads(rt):
    """run(threads=1): a ThreadTrial's verdict; None (the default) is the runtime's choice."""
    import torch
    full = rt.run(torch.get_num_threads)
    assert rt.run(torch.get_num_threads, threads=1) == 1
    assert rt.run(torch.get_num_threads, threads=full + 4) == full, "never more than the runtime gives"
    assert rt.run(torch.get_num_threads) == full, "the next call: all threads again"


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_starved_call_puts_the_next_on_one_thread_and_the_faster_holds():
    clock = _Clock()
    trial = compute.ThreadTrial(starved_wait=0.25, hold_s=10.0, clock=clock)
    trial.observe(2, 0.06, 0.2)  # a fifth of its time waiting for a CPU: busy, not starved
    assert trial.threads() is None
    trial.observe(1, 0.50, 0.9)  # already on one thread (others share the runtime): nothing to try
    assert trial.threads() is None
    trial.observe(2, 0.50, 0.5)  # starved
    assert trial.threads() == 1, "the trial: the next call on one thread"
    trial.observe(1, 0.10, 0.0)  # one thread did a unit in 0.1 s, all of them took 0.5
    assert trial.threads() == 1
    clock.now += 9.9
    trial.observe(1, 0.30, 0.9)  # on one thread: not judged, the verdict does not move
    assert trial.threads() == 1
    clock.now += 0.2
    assert trial.threads() is None, "the hold passed: all threads are tried again"


def test_where_all_threads_stay_faster_though_starved_they_hold():
    """VGG on a photo: a starved call still does more on two threads than one does alone."""
    clock = _Clock()
    trial = compute.ThreadTrial(starved_wait=0.25, hold_s=10.0, clock=clock)
    trial.observe(2, 1.2, 0.6)
    assert trial.threads() == 1
    trial.observe(1, 1.6, 0.0)
    assert trial.threads() is None
    trial.observe(2, 1.2, 0.6)  # starved again within the hold: no new trial
    assert trial.threads() is None
    clock.now += 10.0
    trial.observe(2, 1.2, 0.6)  # after it: a new trial
    assert trial.threads() == 1


def test_a_trial_the_runtime_did_not_run_on_one_thread_says_nothing():
    """Headless (no runtime to cap the call) the trial's call ran on all threads: no verdict."""
    trial = compute.ThreadTrial(starved_wait=0.25, hold_s=10.0, clock=_Clock())
    trial.observe(2, 0.5, 0.5)
    trial.observe(2, 0.1, 0.5)
    assert trial.threads() is None


def test_a_trial_that_is_never_starved_keeps_all_threads():
    """GAN_STARVED_WAIT=off (the bench's baseline): however long the work waited for a CPU."""
    trial = compute.ThreadTrial(starved_wait=float("inf"))
    trial.observe(2, 0.5, 5.0)
    assert trial.threads() is None


def test_a_trial_measures_its_work_by_the_run_queue_clock(monkeypatch):
    """begin/end: the threads the work ran on, its seconds per unit, and its thread's run-queue share;
    work under 50 ms, or where the kernel keeps no such clock, is not judged. The trial's clock is
    a fake one: a sleep on a busy CI machine oversleeps and would change the share."""
    import torch
    delay = [7.0]  # the thread's run-queue clock since it started
    monkeypatch.setattr(compute, "run_delay_s", lambda: delay[0])
    clock = _Clock()
    seen = []
    trial = compute.ThreadTrial(clock=clock)
    monkeypatch.setattr(trial, "observe", lambda *a: seen.append(a))

    def work(seconds, waited, units):
        begun = trial.begin()
        clock.now += seconds
        delay[0] += waited
        trial.end(begun, units)

    work(0.2, 0.05, 4)
    assert seen == [(torch.get_num_threads(), pytest.approx(0.05), pytest.approx(0.25))]
    work(0.04, 0.0, 4)
    assert len(seen) == 1, "too short to judge"
    work(0.06, 0.048, 6)
    assert seen[-1] == (torch.get_num_threads(), pytest.approx(0.01), pytest.approx(0.8))
    work(0.1, 0.0, 0)
    assert len(seen) == 2, "no work done"
    monkeypatch.setattr(compute, "run_delay_s", lambda: None)
    work(0.1, 0.0, 1)
    assert len(seen) == 2, "no run-queue clock"


@pytest.mark.skipif(compute.run_delay_s() is None, reason="no per-thread schedstat (Linux only)")
def test_run_delay_counts_time_runnable_off_a_cpu_not_time_asleep():
    """The clock the starved rule reads: asleep (a call waiting on a lock or a sleep) adds nothing, nor
    does busy on a free CPU (it is not CPU time); busy beside more busy processes than CPUs adds the time
    the scheduler kept this thread waiting."""
    import os
    import subprocess
    import sys
    def busy_for(seconds):
        before, t0 = compute.run_delay_s(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            pass
        return compute.run_delay_s() - before
    before = compute.run_delay_s()
    time.sleep(0.3)
    asleep = compute.run_delay_s() - before
    alone = busy_for(0.3)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(2 * len(os.sched_getaffinity(0)))]
    def hogs_cpu_s():  # user + system time of every hog so far (/proc/PID/stat's 14th and 15th fields, in ticks)
        return sum(sum(map(int, open(f"/proc/{hog.pid}/stat").read().rsplit(")", 1)[1].split()[11:13]))
                   for hog in hogs) / os.sysconf("SC_CLK_TCK")
    try:
        t0 = time.monotonic()  # the hogs start: wait until they are really running (a loaded machine starts them late)
        while hogs_cpu_s() < 0.1 * len(hogs) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        crowded = busy_for(0.6)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    # alone is judged against crowded, not a fixed bound: a CI machine's neighbours may crowd it a little
    assert asleep < 0.05 and crowded > 0.15 and alone < crowded / 3, (asleep, alone, crowded)


def test_default_workers(monkeypatch):
    monkeypatch.delenv("GAN_COMPUTE_WORKERS", raising=False)
    assert compute.default_workers(2, gpu=False) == 2
    assert compute.default_workers(1, gpu=False) == 1
    assert compute.default_workers(8, gpu=True) == 1
    monkeypatch.setenv("GAN_COMPUTE_WORKERS", "3")
    assert compute.default_workers(2, gpu=False) == 3 and compute.default_workers(2, gpu=True) == 3
    for bad in ("0", "-1", "two", ""):
        monkeypatch.setenv("GAN_COMPUTE_WORKERS", bad)
        assert compute.default_workers(2, gpu=False) == 2


def test_default_starved_wait(monkeypatch):
    monkeypatch.delenv("GAN_STARVED_WAIT", raising=False)
    assert compute.default_starved_wait() == 0.25
    monkeypatch.setenv("GAN_STARVED_WAIT", "0.5")
    assert compute.default_starved_wait() == 0.5
    monkeypatch.setenv("GAN_STARVED_WAIT", " OFF ")
    assert compute.default_starved_wait() == float("inf")
    for bad in ("-1", "nan", "inf", "two", ""):
        monkeypatch.setenv("GAN_STARVED_WAIT", bad)
        assert compute.default_starved_wait() == 0.25


def test_give_back_memory_trims_where_glibc_is_and_a_class_leaving_trims_once(monkeypatch):
    import platform
    import time
    assert compute.give_back_memory() is (platform.libc_ver()[0] == "glibc")
    calls = []
    # by name: the app's idle sweeper (started by earlier AppTests in this process) may trim meanwhile
    monkeypatch.setattr(compute, "give_back_memory", lambda: calls.append(threading.current_thread().name))
    for _ in range(30):  # thirty sessions forgotten at once
        compute.give_back_memory_soon(0.1)
    time.sleep(0.4)
    assert calls.count("gan-memory-trim") == 1
    compute.give_back_memory_soon(0.05)  # a later one trims again
    time.sleep(0.3)
    assert calls.count("gan-memory-trim") == 2


JEMALLOC_PROBE = """
import os, torch
from gan_core import compute
from gan_devkit.browser import rss_mb
def rss():
    return rss_mb(os.getpid())
chunks = [torch.ones(64 * 1024) for _ in range(800)]  # 200 MB in blocks of 256 KB
del chunks
before = rss()
print(compute._jemalloc_mallctl() is not None, compute.give_back_memory(), round(before - rss()))
"""


def test_give_back_memory_purges_jemalloc_where_the_process_runs_on_it():
    """The Space preloads jemalloc (Dockerfile): there malloc_trim would trim glibc's unused heap and
    return nothing; the purge hands back what the freed tensors left in jemalloc's arenas.

    Decay is off here (dirty_decay_ms:-1): jemalloc's own decay returns part of the freed pages on its
    clock, so what was left for the purge depended on the machine's load (measured: 49 MB idle, 7 MB
    in a busy CI run). With it off, the purge is the only thing that can return them (~200 MB)."""
    import os
    import subprocess
    import sys
    from gan_devkit.space import loadable
    if not loadable("libjemalloc.so.2"):
        pytest.skip("libjemalloc2 not installed (scripts/setup.sh installs it as root)")
    env = {**os.environ, "LD_PRELOAD": "libjemalloc.so.2", "MALLOC_CONF": "background_thread:true,dirty_decay_ms:-1,muzzy_decay_ms:-1"}
    out = subprocess.run([sys.executable, "-c", JEMALLOC_PROBE], env=env, capture_output=True, text=True, check=True)
    on_jemalloc, purged, freed_mb = out.stdout.split()
    assert on_jemalloc == "True" and purged == "True" and int(freed_mb) >= 150, out.stdout


def test_a_sweep_is_due_only_while_the_threads_rest_after_use():
    due = compute.sweep_due
    assert due(idle_s=12, since_sweep_s=99, every_s=10, window_s=150)
    assert not due(idle_s=0, since_sweep_s=99, every_s=10, window_s=150)     # a call is running
    assert not due(idle_s=5, since_sweep_s=99, every_s=10, window_s=150)     # rested too short
    assert not due(idle_s=151, since_sweep_s=99, every_s=10, window_s=150)   # nobody used it lately
    assert not due(idle_s=40, since_sweep_s=3, every_s=10, window_s=150)     # swept a moment ago
    assert due(idle_s=150, since_sweep_s=10, every_s=10, window_s=150)       # both edges count


def test_idle_s_is_zero_while_a_call_runs_and_counts_from_its_return():
    import time
    runtime = compute.ComputeRuntime(workers=1)
    caller, release = _hold_a_thread(runtime)
    time.sleep(0.1)
    assert runtime.idle_s() == 0.0
    release.set()
    caller.join(5)
    time.sleep(0.1)
    assert 0.05 < runtime.idle_s() < 2.0
    runtime.shutdown()


def test_the_sweeper_frees_what_only_a_full_collection_frees_once_the_threads_rest(monkeypatch):
    """A forgotten session is a reference cycle: freed by the sweeper, and not while a call runs.

    Sweeps are told apart by the thread that makes them: an app runtime left by an earlier test in
    this process has a sweeper of its own, whose collections would free the cycle too."""
    import gc
    import time
    import weakref

    class Session:
        pass

    sweeps, real_sweep = [], compute.sweep_memory
    monkeypatch.setattr(compute, "sweep_memory", lambda: (sweeps.append(threading.get_ident()), real_sweep()))
    runtime = compute.ComputeRuntime(workers=1)
    gc.disable()  # no automatic collection: only a sweep's can free the cycle
    try:
        session = Session()
        session.me = session
        freed = []
        weakref.finalize(session, freed.append, True)
        del session
        caller, release = _hold_a_thread(runtime)
        sweeper = compute.start_idle_sweeper(runtime, every_s=0.05, window_s=5.0)
        time.sleep(0.4)
        assert sweeper.ident not in sweeps  # a call is running: no sweep
        release.set()
        caller.join(5)
        deadline = time.monotonic() + 3
        while not (freed and sweeper.ident in sweeps) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sweeper.ident in sweeps and freed
    finally:
        gc.enable()
        runtime.shutdown()


def test_the_sweeper_ends_with_its_runtime():
    import time
    runtime = compute.ComputeRuntime(workers=1)
    thread = compute.start_idle_sweeper(runtime, every_s=0.02, window_s=1.0)
    del runtime
    thread.join(2)
    assert not thread.is_alive()


def test_the_app_runtime_comes_with_its_sweeper_sized_to_the_session_ttl(monkeypatch):
    """ui.runtime starts the sweeper with its runtime, for as long as Streamlit keeps closed sessions."""
    from ui import runtime as app_runtime
    started = []
    monkeypatch.setattr(app_runtime, "start_idle_sweeper", lambda rt, **kw: started.append((rt, kw)))
    app_runtime.compute_runtime.clear()
    try:
        rt = app_runtime.compute_runtime()
        assert len(started) == 1 and started[0][0] is rt
        assert started[0][1]["window_s"] > 120  # Streamlit's default disconnectedSessionTTL
    finally:
        app_runtime.compute_runtime.clear()


def test_retired_threads_end_and_the_next_call_starts_one_fresh_thread():
    """After a class both compute threads exist; retired once idle, a lone user is back on one."""
    import os
    import time
    rt = ComputeRuntime(workers=2)
    try:
        caller, gate = _hold_a_thread(rt)
        assert not rt.retire_threads(), "a call is running: its thread stays"
        rt.run(threading.get_ident)  # the first thread is busy: this starts the second
        gate.set()
        caller.join()
        assert rt.threads() == 2
        before = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
        assert rt.retire_threads() and rt.threads() == 0
        if before is not None:
            time.sleep(0.05)
            assert len(os.listdir("/proc/self/task")) <= before - 2, "the threads have ended"
        seen = {rt.run(threading.get_ident) for _ in range(5)}
        assert len(seen) == 1 and rt.threads() == 1
        assert rt.run(rt.on_compute_thread) and not rt.on_compute_thread()
    finally:
        rt.shutdown()


def test_the_sweeper_retires_the_threads_once_they_rest():
    import time
    rt = ComputeRuntime(workers=2)
    try:
        caller, gate = _hold_a_thread(rt)
        rt.run(lambda: None)
        compute.start_idle_sweeper(rt, every_s=0.05, window_s=5.0)
        time.sleep(0.3)
        assert rt.threads() == 2, "no retiring while a call runs"
        gate.set()
        caller.join()
        deadline = time.monotonic() + 3
        while rt.threads() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rt.threads() == 0
        assert rt.run(lambda: 7) == 7 and rt.threads() == 1
    finally:
        rt.shutdown()

"""Where torch's CPU threads go: the one place that decides the thread policy of this project.

The policy, measured on 2-core machines (numbers in docs/performance.md):
1. The process default is the CPUs really available (affinity mask, cgroup quota), not the
   visible cores: `device.get_device()` sets it once through `clamp_process_threads()`.
2. In a long-lived multi-user process (the app server) all heavy torch work runs on a few
   persistent threads, a `ComputeRuntime` the app owns: one per CPU on a CPU server, one on a GPU.
   PyTorch's CPU pool is GNU OpenMP, which gives every thread that runs a parallel op its own team
   of workers; with two 2-thread teams on 2 cores libgomp stops spinning and every op sleeps and
   wakes (30 vs 42 steps/s of the digit GAN). So: alone, a call runs on all intra-op threads; while
   others queue or were active in the last few seconds, every call runs on ONE intra-op thread, and
   the workers run several users' calls side by side, one core each. Small networks gain little from
   a second intra-op thread (one step is ~100 short ops, each ending in a barrier) and nearly twice
   from a second run beside them: two digit GANs, one thread each, 86 vs 52 steps/s in all.
   Users queue in turn, first come first served. Once there are two compute threads, each frees its
   OpenMP team after every call, so that at most the teams of the calls running now exist; and once
   the threads rest, the idle sweeper ends them (retire_threads), the next call starting one afresh.
   Alone is not always alone: a teacher's laptop runs the browser on the same cores. A lone user's
   repeated work may carry a `ThreadTrial`, which measures whether one intra-op thread does it faster
   while the cores are taken, and caps the user's calls to one thread while it does (run(threads=1)).
3. Tiny networks (the 2-D toy GAN) run on one thread wherever they run: `one_thread()`.

    runtime = ComputeRuntime(workers=2)       # the app: one per server process (st.cache_resource)
    result = runtime.run(trainer.step, 100)   # runs on a compute thread, returns (or raises) here
"""
import functools
import math
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from .env import env_number


class ComputeRuntime:
    """A few worker threads for heavy torch calls, shared fairly by the users of a process.

    A user's calls never overlap (each run() blocks its caller), so one user's objects are touched by
    one worker at a time; different users' calls may run at once on different workers."""

    def __init__(self, active_window_s: float = 3.0, name: str = "gan-compute", workers: int = 1):
        self.active_window_s = active_window_s  # a user counts as sharing for this long after a call
        self.workers = max(1, int(workers))
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._idents: set[int] = set()
        self._lock = threading.Lock()
        self._waiting = 0
        self._last_call: dict[int, float] = {}  # id of a user (or caller thread) -> when it last called run()
        self._full_threads: int | None = None
        self._local = threading.local()  # each worker's own OpenMP thread count
        self._in_flight = 0                 # calls submitted and not yet returned
        self._last_done = time.monotonic()  # when the last call returned (see idle_s)

    def run(self, fn, *args, user: object = None, threads: int | None = None, **kwargs):
        """fn(*args, **kwargs) on a compute thread; blocks until done. Re-entrant: a call made from
        a compute thread itself runs inline (no deadlock). `user` (e.g. a browser session's state)
        says who asked, for share(); by default the calling thread. `threads`: at most this many
        intra-op threads for this call (a ThreadTrial's verdict); None: the runtime's choice."""
        if self.on_compute_thread():
            return fn(*args, **kwargs)
        # A thread that did torch work keeps its OpenMP team while it lives (Streamlit's script
        # thread lives as long as a fragment reruns): free it, or it throttles ours (see above).
        release_thread_pool()
        with self._lock:  # one lock with retire_threads(): a pool is never retired under a caller
            # Submitted under the lock that counts it: a call counted as waiting is already in the pool's
            # first-come-first-served queue (counted first, a later caller could submit before it).
            # A worker that takes it at once waits for this lock to uncount it. RuntimeError: the
            # interpreter is shutting down and the pool takes no more work; nothing was counted.
            future = self._pool().submit(self._counted, fn, args, kwargs, threads)
            self._waiting += 1
            self._in_flight += 1
            self._last_call[id(user) if user is not None else threading.get_ident()] = time.monotonic()
        try:
            return future.result()
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_done = time.monotonic()

    def on_compute_thread(self) -> bool:
        return threading.get_ident() in self._idents

    def waiting(self) -> int:
        """Calls queued for a free worker: a tick can shrink its share when others wait."""
        return self._waiting

    def idle_s(self) -> float:
        """Seconds since the last call returned; 0 while any call is queued or running."""
        with self._lock:
            return 0.0 if self._in_flight else time.monotonic() - self._last_done

    def active_users(self) -> int:
        """Users (in the app: browser sessions) that called run() in the last active_window_s seconds."""
        with self._lock:
            return self._active_users()

    def share(self) -> float:
        """How many users each compute thread is serving now: a tick trains 1/share of its time.

        The queue alone undercounts: a session drawing its page between two ticks is not in it, and
        its tick, sized for an empty queue, then keeps three others waiting. Not rounded up: three
        users on two threads are 1.5 each; rounded to 2, a class's ticks trained 0.3 s where 0.4 s
        fit, and each trainer's page drawing between them left the threads idle longer."""
        users = max(1 + self._waiting, self.active_users())
        return max(1.0, users / self.workers)

    def threads(self) -> int:
        """Compute threads alive now (they start as calls need them; retire_threads() ends them)."""
        return len(self._idents)

    def retire_threads(self) -> bool:
        """End the compute threads if no call is queued or running; the next call starts a fresh one.
        True if it did.

        Why: a class starts every compute thread, and each keeps what it was given (its stack, its
        allocator arena's top, its OpenMP team) while it lives; a lone user afterwards has their ticks
        spread over all of them. The idle sweeper calls this once the threads rest, so the next user
        starts on one thread again. Measured after a class of 30: idle + 34 and + 38 MB, against
        idle + 58 MB with the threads kept (bench/bench_classroom.py)."""
        with self._lock:
            if self._in_flight or self._executor is None:
                return False
            executor, self._executor, self._idents = self._executor, None, set()
        executor.shutdown(wait=True)
        return True

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    # ------------------------------------------------------------------ internals
    def _pool(self) -> ThreadPoolExecutor:
        """(Holding _lock.) The pool, started on first use and after retire_threads()."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self._name,
                                                initializer=_mark_worker, initargs=(self._idents,))
        return self._executor

    def _active_users(self) -> int:
        """(Holding _lock.) Forget users idle for active_window_s; count the rest."""
        now = time.monotonic()
        for key in [k for k, t in self._last_call.items() if now - t > self.active_window_s]:
            del self._last_call[key]
        return len(self._last_call)

    def _counted(self, fn, args, kwargs, cap: int | None = None):
        """fn on this compute thread with the intra-op threads that suit the moment; then, where the
        runtime has started a second compute thread, this thread's OpenMP team is freed.

        Why free it: libgomp counts every team's threads, and with more of them than CPUs it stops
        spinning at its barriers (the module's rule 2). A lone user whose calls land on both compute
        threads in turn (concurrent.futures' threads take turns) would keep two 2-thread teams alive
        on 2 cores: after a class, 33.5 steps/s where one thread trained 50.5. Freed after each call,
        the team is made again on the next (a thread start per call, a fraction of a millisecond
        against a tick's half second): 45.9 vs 49.2 steps/s (bench/bench_lone_after_class.py)."""
        with self._lock:
            self._waiting -= 1
            contended = self._waiting > 0 or self._active_users() > 1
        self._fit_threads(contended, cap)
        try:
            return fn(*args, **kwargs)
        finally:
            if len(self._idents) > 1:  # another compute thread exists: leave no team behind (see _counted's doc)
                release_thread_pool()

    def _fit_threads(self, contended: bool, cap: int | None = None) -> None:
        """One intra-op thread while others share the compute threads, all of them when alone (at
        most `cap`, where the call asks for fewer).

        Each torch op on the CPU ends in an OpenMP barrier that waits for every worker thread. When
        several users' pages (and their browsers, on a classroom laptop) keep the cores busy, a
        worker is often descheduled and each of a step's ~100 barriers waits a scheduler slice:
        measured, four sessions on 2 cores made a 0.04 s step take 0.2-0.8 s. omp_set_num_threads
        changes this thread only (torch.set_num_threads would also change every other thread's default)."""
        lib = _openmp()
        if lib is None:
            return
        if getattr(self._local, "threads", None) is None:
            import torch
            self._local.threads = torch.get_num_threads()  # also runs torch's per-thread setup
            with self._lock:
                if self._full_threads is None:
                    self._full_threads = self._local.threads
        want = 1 if contended else self._full_threads
        if cap is not None:
            want = max(1, min(want, cap))
        if want != self._local.threads:
            lib.omp_set_num_threads(want)
            self._local.threads = want


class ThreadTrial:
    """Whether a lone user's repeated work (a training tick) goes faster on one intra-op thread while
    something outside the runtime holds the cores: measured per unit of work, not assumed.

    Why: a teacher's laptop runs the browser on the same 2 cores, and Chromium drawing a tick's new
    images takes a core just as the next tick starts. A small network's step (~100 short ops, each
    ending in an OpenMP barrier) on two threads then waits at every barrier for a descheduled worker:
    in Chromium, the VAE racing the digit GAN, GAN steps of 0.1-1.1 s where one thread takes ~0.1 s.
    A big network's ops (VGG19 on a photo) lose only the core: there two threads stay faster (Gatys,
    12 against 9 steps in 15 s). So: work on all threads whose own thread was runnable but off a CPU
    for over `starved_wait` of its time (Linux's run-queue clock: sleeping is not waiting) was starved;
    the next call runs on one thread, and whichever took fewer seconds per unit holds for hold_s
    seconds; then all threads are tried again. Where nothing else runs (the Space: browsers elsewhere)
    the work is never starved and keeps all threads.

        trial = ThreadTrial()
        runtime.run(work, threads=trial.threads())
        # in work, on the compute thread:  begun = trial.begin(); ...n steps...; trial.end(begun, n)
    """

    def __init__(self, starved_wait: float = 0.25, hold_s: float = 10.0, clock=time.monotonic):
        self.starved_wait = starved_wait  # run-queue seconds per second of work that make it starved
        self.hold_s = hold_s              # how long a verdict holds
        self._clock = clock
        self._one = False                 # the verdict: one thread (True) or the runtime's choice
        self._until = 0.0                 # the verdict holds until then; no new trial before
        self._starved_s: float | None = None  # seconds per unit of the starved work, while on trial

    def threads(self) -> int | None:
        """The intra-op threads for the next call: 1 (on trial, or one thread won), or None."""
        if self._starved_s is not None:
            return 1
        return 1 if self._one and self._clock() < self._until else None

    def observe(self, threads: int, seconds_per_unit: float, waited_share: float) -> None:
        """One call's work: on how many intra-op threads, its seconds per unit, and the share of its
        time its thread waited for a CPU."""
        now = self._clock()
        if self._starved_s is not None:  # this was the trial
            if threads == 1:
                self._one, self._until = seconds_per_unit < self._starved_s, now + self.hold_s
            self._starved_s = None
        elif threads > 1 and now >= self._until and waited_share > self.starved_wait:
            self._starved_s = seconds_per_unit

    def begin(self) -> tuple:
        """At the start of the measured work, on the thread that does it."""
        import torch
        return torch.get_num_threads(), self._clock(), run_delay_s()

    def end(self, begun: tuple, units: int) -> None:
        """After `units` units of work begun at `begun`; work under 50 ms says too little to judge by."""
        threads, wall0, delay0 = begun
        wall, delay = self._clock() - wall0, run_delay_s()
        if units > 0 and wall >= 0.05 and delay0 is not None and delay is not None:
            self.observe(threads, wall / units, (delay - delay0) / wall)


def _mark_worker(idents: set) -> None:
    """A compute thread's first act: say it is one, in its pool's set (a retired pool's set is dropped)."""
    idents.add(threading.get_ident())


# ---------------------------------------------------------------- per-thread OpenMP controls


@functools.lru_cache(maxsize=1)
def _openmp():
    """The OpenMP library torch loaded (libgomp on Linux wheels, libomp on macOS), or None."""
    import ctypes
    import glob
    import torch
    lib_dir = os.path.join(os.path.dirname(torch.__file__), "lib")
    for pattern in ("libgomp*.so*", "libomp*.dylib", "libiomp5*", "libomp*.so*"):
        for path in sorted(glob.glob(os.path.join(lib_dir, pattern))):
            try:
                lib = ctypes.CDLL(path)
                lib.omp_pause_resource_all.argtypes = [ctypes.c_int]
                lib.omp_set_num_threads.argtypes = [ctypes.c_int]
                return lib
            except (OSError, AttributeError):
                continue
    return None


def run_delay_s() -> float | None:
    """Seconds the calling thread has spent runnable but waiting for a CPU (Linux's per-thread
    schedstat), or None where the kernel does not say (other systems, schedstats compiled out)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def release_thread_pool() -> bool:
    """Free the OpenMP worker threads owned by the calling thread (they come back on its next
    parallel op; OpenMP 5's omp_pause_resource_all frees the caller's pool only). True if the
    runtime did it; False where there is no such runtime (a no-op)."""
    lib = _openmp()
    return lib is not None and lib.omp_pause_resource_all(2) == 0  # 2 = omp_pause_hard


# torch's global RNG is one per process, shared by every visitor's run on the compute threads: seeding it and
# drawing a run's initial weights is one step (the trainer's and the toy's), taken under this lock
GLOBAL_RNG = threading.Lock()


@contextmanager
def one_thread():
    """Run tiny-net work on one thread, then restore the caller's count (rule 3 above).

    A 256x64 matmul is microseconds of work; splitting it over threads costs more in
    synchronisation than it saves, and on a busy 2-core box the waiting threads spin (measured
    ~15x slower with 2 threads). torch.set_num_threads sets the calling thread's OpenMP count (no
    running thread slows down) and torch's default for threads that have not used torch yet; both
    are restored on exit, so the default changes only for the length of the tiny burst.
    """
    import torch
    old = torch.get_num_threads()
    if old != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if old != 1:
            torch.set_num_threads(old)


def clamp_process_threads(cpus: int) -> None:
    """Rule 1: torch's default thread count = the CPUs this process may really use, or fewer where
    OMP_NUM_THREADS asks for fewer: a harness that forks after torch ran in parallel (mutmut) sets 1,
    since a forked child of a process with an OpenMP team hangs in its first parallel op."""
    import torch
    asked = os.environ.get("OMP_NUM_THREADS", "").strip()
    want = max(1, min(cpus, int(asked)) if asked.isdigit() and int(asked) > 0 else cpus)
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)


def default_workers(cpus: int, gpu: bool) -> int:
    """Compute threads for a server (rule 2): one per CPU on a CPU, one on a GPU (its kernels already
    run side by side in one stream's queue). GAN_COMPUTE_WORKERS (an integer > 0) overrides."""
    text = os.environ.get("GAN_COMPUTE_WORKERS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return 1 if gpu else max(1, cpus)


def default_starved_wait() -> float:
    """ThreadTrial's starved threshold (run-queue seconds per second of work). GAN_STARVED_WAIT overrides
    0.25 with a number >= 0, or `off`: never starved, never a trial (the baseline of
    bench/bench_page_race.py)."""
    return env_number("GAN_STARVED_WAIT", 0.25, lambda value: value >= 0, words={"off": math.inf})


# ---------------------------------------------------------------- memory back to the OS

_trim_lock = threading.Lock()
_trim_timer: threading.Timer | None = None


@functools.lru_cache(maxsize=1)
def _libc():
    import ctypes
    import ctypes.util
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        lib.malloc_trim.argtypes = [ctypes.c_size_t]
        return lib
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return None


@functools.lru_cache(maxsize=1)
def _jemalloc_mallctl():
    """jemalloc's mallctl when the process runs on it (LD_PRELOAD, as the Space's Dockerfile), else None."""
    import ctypes
    try:
        mallctl = ctypes.CDLL(None).mallctl
    except (OSError, AttributeError, TypeError):  # not jemalloc; TypeError: Windows has no CDLL(None)
        return None
    mallctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return mallctl


def give_back_memory() -> bool:
    """Hand the allocator's free pages back to the OS: jemalloc's purge of every arena where the process
    runs on jemalloc, glibc's malloc_trim otherwise. A server that trained a class holds what the class's
    runs freed in its arenas until then. False where neither allocator is there."""
    mallctl = _jemalloc_mallctl()
    if mallctl is not None:  # "arena.<MALLCTL_ARENAS_ALL = 4096>.purge"
        return mallctl(b"arena.4096.purge", None, None, None, 0) == 0
    lib = _libc()
    return lib is not None and lib.malloc_trim(0) == 1


def sweep_due(idle_s: float, since_sweep_s: float, every_s: float, window_s: float) -> bool:
    """A sweep is due once the compute threads have rested every_s, at most every every_s, and only
    within window_s of their last call: a server nobody uses stops sweeping."""
    return every_s <= idle_s <= window_s and since_sweep_s >= every_s


def sweep_memory() -> None:
    """A full garbage collection, then give_back_memory()."""
    import gc
    gc.collect()
    give_back_memory()


def start_idle_sweeper(runtime: ComputeRuntime, every_s: float = 10.0, window_s: float = 150.0) -> threading.Thread:
    """A daemon thread that runs sweep_memory() while `runtime` rests after use (see sweep_due).

    Why: a browser session a server forgets holds reference cycles (Streamlit's own), so its run's
    tensors go only when Python next runs a full collection, and in a quiet server that can be minutes
    later: measured, a class that had left still held +100 to +140 MB. A full collection of the app's
    ~420k objects takes ~0.25 s of the GIL, so it never runs while a call is queued or running (a
    training ticks every half second); window_s should cover the server's session TTL."""
    ref = weakref.ref(runtime)  # the thread ends with its runtime (tests make many)

    def loop():
        last = -math.inf
        while True:
            time.sleep(every_s)
            rt = ref()
            if rt is None:
                return
            if sweep_due(rt.idle_s(), time.monotonic() - last, every_s, window_s):
                rt.retire_threads()
                sweep_memory()
                last = time.monotonic()
            rt = None
    thread = threading.Thread(target=loop, name="gan-memory-sweeper", daemon=True)
    thread.start()
    return thread


def give_back_memory_soon(delay_s: float = 2.0) -> None:
    """give_back_memory() once, delay_s from the first call: a class leaving at once trims once."""
    global _trim_timer
    with _trim_lock:
        if _trim_timer is not None and _trim_timer.is_alive():
            return
        _trim_timer = threading.Timer(delay_s, give_back_memory)
        _trim_timer.name, _trim_timer.daemon = "gan-memory-trim", True
        _trim_timer.start()

"""One thread for the heavy torch work of a long-lived process (the app server), shared by all users.

Why: PyTorch's CPU thread pool is GNU OpenMP, which gives every thread that runs a parallel op its
own team of worker threads. Once two teams exist on a 2-core machine, libgomp counts more threads
than CPUs and stops spinning at its barriers: every op then sleeps and wakes its workers, and
training runs ~30% slower (measured here: 30 vs 42 steps/s of the digit GAN). Streamlit runs scripts in
threads of its own, so a page that trains in its own thread pays that price whenever any
other thread has touched torch. Sending the heavy calls here keeps one team for the whole process,
and users queue in turn (fair, first come first served) instead of fighting over the same cores.

    from gan_core import compute
    result = compute.run(trainer.step, 100)   # runs on the compute thread, returns (or raises) here

A thread that did torch work keeps its OpenMP team until it exits, and Streamlit's script thread
lives as long as reruns keep coming (a live fragment: for ever). So run() first releases the
calling thread's team (OpenMP 5's omp_pause_resource_all, which frees the caller's pool only): with
it, training in the browser went from 1,450 sleeps per second of the compute thread to none.
"""
import functools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None
_ident: int | None = None
_lock = threading.Lock()
_waiting = 0
_last_call: dict[int, float] = {}  # id of a user (or caller thread) -> when it last called run()
ACTIVE_WINDOW_S = 3.0


def _mark_worker() -> None:
    global _ident
    _ident = threading.get_ident()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gan-compute", initializer=_mark_worker)
        return _executor


@functools.lru_cache(maxsize=1)
def _runtime():
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


def release_thread_pool() -> bool:
    """Free the OpenMP worker threads owned by the calling thread (they come back on its next
    parallel op). True if the runtime did it; False where there is no such runtime (no-op)."""
    lib = _runtime()
    return lib is not None and lib.omp_pause_resource_all(2) == 0  # 2 = omp_pause_hard


def on_compute_thread() -> bool:
    return threading.get_ident() == _ident


def waiting() -> int:
    """Calls queued behind the one now running: a tick can shrink its share when others wait."""
    return _waiting


def _active_users() -> int:
    """(Holding _lock.) Forget users idle for ACTIVE_WINDOW_S; count the rest."""
    now = time.monotonic()
    for key in [k for k, t in _last_call.items() if now - t > ACTIVE_WINDOW_S]:
        del _last_call[key]
    return len(_last_call)


def active_users() -> int:
    """Users (in the app: browser sessions) that called run() in the last ACTIVE_WINDOW_S seconds."""
    with _lock:
        return _active_users()


def share() -> int:
    """How many users the compute thread is serving now: a tick trains 1/share of its time.

    The queue alone undercounts: a session drawing its page between two ticks is not in it, and
    its tick, sized for an empty queue, then keeps three others waiting."""
    return max(1 + _waiting, active_users())


_full_threads: int | None = None
_threads_now: int | None = None


def _fit_threads(contended: bool) -> None:
    """One intra-op thread while other users queue or used it within the last few seconds
    (their pages, drawing between ticks, keep the cores busy too), all of them when alone.

    Each torch op on the CPU ends in an OpenMP barrier that waits for every worker thread. When
    several users' pages (and their browsers, on a classroom laptop) keep the cores busy, a
    worker is often descheduled and each of a step's ~100 barriers waits a scheduler slice:
    measured, four sessions on 2 cores made a 0.04 s step take 0.2-0.8 s. One thread has no
    barrier to wait at. omp_set_num_threads changes this thread only (torch.set_num_threads
    would also change the default every other thread starts with)."""
    global _full_threads, _threads_now
    lib = _runtime()
    if lib is None:
        return
    if _full_threads is None:
        import torch
        _full_threads = _threads_now = torch.get_num_threads()  # also runs torch's per-thread setup
    want = 1 if contended else _full_threads
    if want != _threads_now:
        lib.omp_set_num_threads(want)
        _threads_now = want


def _counted(fn, args, kwargs):
    global _waiting
    with _lock:
        _waiting -= 1
        contended = _waiting > 0 or _active_users() > 1
    _fit_threads(contended)
    return fn(*args, **kwargs)


def run(fn, *args, user: object = None, **kwargs):
    """fn(*args, **kwargs) on the compute thread; blocks until done. Re-entrant: a call made from
    the compute thread itself runs inline (no deadlock). `user` (e.g. a browser session's state)
    says who asked, for share(); by default the calling thread."""
    if on_compute_thread():
        return fn(*args, **kwargs)
    release_thread_pool()  # the caller's own OpenMP team (if any) would throttle ours: see above
    global _waiting
    pool = _pool()
    with _lock:
        _waiting += 1
        _last_call[id(user) if user is not None else threading.get_ident()] = time.monotonic()
    try:
        future = pool.submit(_counted, fn, args, kwargs)
    except RuntimeError:  # interpreter shutting down: the pool takes no more work
        with _lock:
            _waiting -= 1
        raise
    return future.result()

"""gan_core.compute: every heavy call lands on one persistent thread, whoever makes it."""
import threading

import pytest

from gan_core import compute


def _wait_for_queue(n: int, timeout: float = 5.0) -> None:
    """Until n calls are queued on the compute thread (threads just started take a moment)."""
    for _ in range(int(timeout / 0.01)):
        if compute.waiting() == n:
            return
        threading.Event().wait(0.01)


def test_calls_from_many_threads_run_on_one_other_thread():
    seen = []

    def record():
        seen.append(threading.get_ident())
        return len(seen)

    threads = [threading.Thread(target=compute.run, args=(record,)) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    compute.run(record)
    assert len(seen) == 7 and len(set(seen)) == 1
    assert seen[0] != threading.get_ident() and seen[0] not in {th.ident for th in threads}


def test_results_exceptions_and_reentrancy():
    assert compute.run(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        compute.run(lambda: 1 / 0)
    # a call made from the compute thread runs inline instead of waiting for itself
    assert compute.run(lambda: compute.run(compute.on_compute_thread)) is True
    assert not compute.on_compute_thread()


def test_waiting_counts_queued_calls():
    gate, started, counts = threading.Event(), threading.Event(), []

    def blocker():
        started.set()
        gate.wait(5)

    first = threading.Thread(target=compute.run, args=(blocker,))
    first.start()
    assert started.wait(5)
    queued = [threading.Thread(target=compute.run, args=(lambda: counts.append(compute.waiting()),)) for _ in range(3)]
    for th in queued:
        th.start()
    _wait_for_queue(3)
    assert compute.waiting() == 3
    gate.set()
    for th in [first, *queued]:
        th.join()
    assert sorted(counts) == [0, 1, 2] and compute.waiting() == 0


def test_one_intra_op_thread_while_others_queue(monkeypatch):
    import torch
    monkeypatch.setattr(compute, "ACTIVE_WINDOW_S", 0.0)  # the queue only (recent users: next test)
    full = compute.run(torch.get_num_threads)
    if full == 1:
        pytest.skip("a one-CPU machine has nothing to shrink")
    gate, started, seen = threading.Event(), threading.Event(), []

    def blocker():
        started.set()
        gate.wait(5)

    threads = [threading.Thread(target=compute.run, args=(blocker,))]
    threads[0].start()
    assert started.wait(5)
    for _ in range(2):
        threads.append(threading.Thread(target=compute.run, args=(lambda: seen.append(torch.get_num_threads()),)))
        threads[-1].start()
        _wait_for_queue(len(threads) - 1)
    gate.set()
    for th in threads:
        th.join()
    assert seen == [1, full]  # the first ran with one more call behind it; the last ran alone
    assert compute.run(torch.get_num_threads) == full


def test_recent_users_count_until_their_window_passes(monkeypatch):
    """A session drawing its page between two ticks is not in the queue, but it still shares the
    thread (and the cores): share() and the thread count see it for ACTIVE_WINDOW_S."""
    import time
    import torch
    monkeypatch.setattr(compute, "_last_call", {})
    full = compute.run(torch.get_num_threads)
    users = [object() for _ in range(3)]
    for u in users:
        compute.run(lambda: None, user=u)
    assert compute.active_users() == 4 and compute.share() == 4  # three users and this thread
    compute.run(lambda: None, user=users[0])
    assert compute.active_users() == 4, "a user counts once, however often it calls"
    assert compute.run(torch.get_num_threads) == min(full, 1)
    monkeypatch.setattr(compute, "ACTIVE_WINDOW_S", 0.05)
    time.sleep(0.1)
    assert compute.active_users() == 0 and compute.share() == 1
    assert compute.run(torch.get_num_threads) == full, "alone again: all threads"


def test_release_thread_pool_frees_and_torch_still_works():
    import torch
    x = torch.rand(512, 512)
    (x @ x).sum()  # a parallel op: this thread now owns an OpenMP team (where torch uses OpenMP)
    released = compute.release_thread_pool()
    assert released in (True, False)
    if "OpenMP" in torch.__config__.parallel_info():
        assert released, "torch runs on OpenMP here, so its runtime should have been found"
    assert torch.allclose((x @ x).sum(), (x @ x).sum())  # the team comes back on the next op
    assert torch.get_num_threads() >= 1

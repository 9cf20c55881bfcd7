import threading

from ui.live import exclusive


class Obj:
    pass


def test_exclusive_lets_one_thread_work_per_object():
    a, b = Obj(), Obj()
    inside, release, seen = threading.Event(), threading.Event(), []

    def worker():
        with exclusive(a) as mine:
            seen.append(mine)
            inside.set()
            release.wait(5)
    th = threading.Thread(target=worker)
    th.start()
    inside.wait(5)
    with exclusive(a) as mine:
        assert mine is False          # a is busy in the other thread
    with exclusive(b) as mine:
        assert mine is True           # other objects are independent
    release.set()
    th.join()
    with exclusive(a) as mine:
        assert mine is True           # free again once the worker left
    assert seen == [True]

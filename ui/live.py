"""Guard for live loops. Streamlit's fast reruns can start a new script thread while the previous
one is still inside a training chunk; two threads stepping the same model corrupt its autograd
state. `exclusive(obj)` lets exactly one thread work on `obj` at a time; the other skips its turn.
"""
import threading
from contextlib import contextmanager

_guard = threading.Lock()


@contextmanager
def exclusive(obj):
    """`with exclusive(trainer) as mine: if mine: trainer.step(k)` - mine is False while another thread works."""
    with _guard:
        lock = obj.__dict__.setdefault("_live_lock", threading.Lock())
    mine = lock.acquire(blocking=False)
    try:
        yield mine
    finally:
        if mine:
            lock.release()

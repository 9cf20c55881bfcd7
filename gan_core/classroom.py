"""The class run: one teacher's training, watched live and read-only by a whole class.

Thirty students each training their own GAN on a 2-core Space share two cores and see
nothing within the lesson; thirty students watching the teacher's run cost one trainer. A code
(and a link carrying it) names the run; a student's page draws that run's grid, curves and meter
and holds no trainer of its own.

    classes = ClassRuns()
    code = classes.open(teacher_session)   # 'k3J9x-QmT2sW': shown to the teacher as a link
    classes.watch(code)                    # the session, or None: unknown, closed, or teacher gone
    classes.seen(code)                     # the teacher's page is still open (every few seconds)
    classes.close(code)                    # the teacher stopped sharing

A run that counts its resets (`run.resets`, as a TrainSession does) ends its class the moment it is
reset, whatever the teacher's page does next: the class watched that run, not the next one.
Codes are 64 random bits (`secrets`): a visitor cannot find a class by trying codes. Only weak
references to the teacher's session are kept: a session the server forgot ends its class.
"""
import secrets
import threading
import time
import weakref

CODE_BYTES = 8
TEACHER_GONE_S = 30.0  # a class whose teacher's page has not called for this long has ended (it calls every few seconds)


class ClassRuns:
    def __init__(self, teacher_gone_s: float = TEACHER_GONE_S, clock=time.monotonic):
        self.teacher_gone_s = teacher_gone_s
        self._clock = clock
        self._lock = threading.Lock()
        self._runs: dict[str, list] = {}   # code -> [weakref(teacher's run), last seen, its resets then]

    def open(self, run) -> str:
        """A code for `run`; the same code while it is open (pressing Share twice changes nothing)."""
        with self._lock:
            for code, (ref, _, resets) in list(self._runs.items()):
                if ref() is run:
                    if resets == _resets(run):
                        self._runs[code][1] = self._clock()
                        return code
                    del self._runs[code]  # reset since: that class has ended, this is a new one
            code = secrets.token_urlsafe(CODE_BYTES)
            self._runs[code] = [weakref.ref(run), self._clock(), _resets(run)]
            return code

    def seen(self, code: str) -> None:
        with self._lock:
            if code in self._runs:
                self._runs[code][1] = self._clock()

    def watch(self, code: str):
        """The run behind `code`, or None when there is none to watch (any such code is forgotten)."""
        with self._lock:
            entry = self._runs.get(code) if isinstance(code, str) else None
            if entry is None:
                return None
            run = entry[0]()
            if run is None or self._clock() - entry[1] > self.teacher_gone_s or _resets(run) != entry[2]:
                del self._runs[code]
                return None
            return run

    def close(self, code: str | None) -> None:
        with self._lock:
            self._runs.pop(code, None)

    def code_of(self, run) -> str | None:
        with self._lock:
            return next((c for c, (ref, *_) in self._runs.items() if ref() is run), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)


def _resets(run) -> int:
    return getattr(run, "resets", 0)

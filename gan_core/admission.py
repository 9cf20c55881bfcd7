"""Who may train now: at most `seats` trainings at once on a server, the rest in a visible queue.

A class of 30 on a 2-core Space shares two compute threads (gan_core.compute). Thirty runs at once
each get 1/15 of one and none draws a digit within a lesson; a few seats, a queue with an honest
wait, and turns that end when others wait give everyone a run that shows something.

    desk = Admission(seats=2, turn_s=90)
    ticket = desk.ask(session)    # Ticket("run") or Ticket("wait", ahead=2, eta_s=40.0)
    desk.turn_over(session)       # True once its turn is used up while others wait: pause it
    desk.leave(session)           # Pause, Reset, turn over: the seat goes to the first in line
    desk.reap()                   # holders not seen for abandon_s (their tab is gone): removed

Rules:
- A seat is held from admission until leave(); with nobody waiting a run keeps it to the step cap.
- While someone waits, a holder's turn lasts turn_s, counted from when it sat down or from when
  the first of those now waiting joined, whichever is later: a run alone for ten minutes is not
  thrown out the moment a student presses Start.
- Every call names its caller (`who`, any object that takes a weak reference; a browser session's
  TrainSession in the app); ask/seen mark it alive. Only weak references are kept: a session the
  server has forgotten frees its seat and its memory, even if no one calls again. A holder or waiter not seen for abandon_s has left: its seat or place is
  freed, and reap() hands it back so the caller can pause it and free its memory.
- A pinned caller (the teacher's class run, watched by the whole class: gan_core.classroom) runs
  outside the seats: it never waits, never ends its turn and takes no student's seat.
- The wait shown is the time until enough seats free up by turn ends: for the p-th in line (from 0)
  with S seats, the (p mod S)-th soonest turn end plus p // S whole turns.
"""
import threading
import time
import weakref
from dataclasses import dataclass

from .env import env_number

TURN_S = 90.0     # a turn while others wait: long enough to see digits, short enough that a line of 5 moves
ABANDON_S = 20.0  # a tab not heard from for this long is gone: the training page ticks every second or two


@dataclass(frozen=True)
class Ticket:
    state: str            # "run" or "wait"
    ahead: int = 0        # runs queued before this one
    eta_s: float = 0.0    # seconds until it starts, if every turn before it is used in full


def default_seats(cpus: int, gpu: bool) -> int:
    """Seats from the hardware: trainings share the compute threads (one per CPU), so more seats only
    thin every run's share; two, beside a teacher's class run, keep both cores training while one run
    draws its page. GAN_MAX_TRAININGS overrides."""
    hardware = 4 if gpu else max(1, min(2, cpus))
    return int(env_number("GAN_MAX_TRAININGS", hardware, lambda value: value >= 1 and value == int(value)))


def default_turn_s() -> float:
    """A turn's length while others wait: TURN_S, or GAN_TURN_S (seconds > 0)."""
    return env_number("GAN_TURN_S", TURN_S, lambda value: value > 0)


class Admission:
    def __init__(self, seats: int, turn_s: float = TURN_S, abandon_s: float = ABANDON_S, clock=time.monotonic):
        self.seats = seats
        self.turn_s = turn_s
        self.abandon_s = abandon_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seated: dict[int, list] = {}   # id(who) -> [weakref(who), sat_down_at]
        self._queue: list[list] = []         # [weakref(who), joined_at], first come first served
        self._seen: dict[int, float] = {}
        self._pinned = weakref.WeakValueDictionary()  # id(who) -> who: runs outside the seats

    # ------------------------------------------------------------------ calls
    def ask(self, who) -> Ticket:
        """Take a seat if one is free and nobody is before `who` in line, else (keep) a place in line."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            self._seen[id(who)] = now
            if id(who) in self._seated or id(who) in self._pinned:
                return Ticket("run")
            if not any(w() is who for w, _ in self._queue):
                self._queue.append([weakref.ref(who), now])
            self._fill(now)
            if id(who) in self._seated:
                return Ticket("run")
            return self._ticket(next(i for i, (w, _) in enumerate(self._queue) if w() is who), now)

    def pin(self, who, on: bool = True) -> None:
        """Take `who` out of the seats and the line (on), or back to an ordinary caller (off): it
        then holds nothing and asks again like anyone else."""
        with self._lock:
            self._pinned.pop(id(who), None)
            self._drop(who)
            if on:
                self._pinned[id(who)] = who
            self._fill(self._clock())

    def seen(self, who) -> None:
        with self._lock:
            self._seen[id(who)] = self._clock()

    def leave(self, who) -> None:
        """Give back the seat or the place in line (a pinned caller stays pinned: Pause, then Resume)."""
        with self._lock:
            self._drop(who)
            self._fill(self._clock())

    def turn_over(self, who) -> bool:
        with self._lock:
            seat = self._seated.get(id(who))
            if seat is None or not self._queue:
                return False
            started = max(seat[1], min(t for _, t in self._queue))
            return self._clock() - started >= self.turn_s

    def reap(self) -> list:
        """Remove the callers that stopped calling (their tab closed); return them."""
        with self._lock:
            gone = self._expire(self._clock())
            self._fill(self._clock())
            return gone

    def holding(self, who) -> bool:
        with self._lock:
            return id(who) in self._seated or id(who) in self._pinned

    def counts(self) -> tuple[int, int]:
        """(running, waiting)."""
        with self._lock:
            return len(self._seated), len(self._queue)

    # ------------------------------------------------------------------ internals (holding _lock)
    def _drop(self, who) -> None:
        """Out of the seats and the line (a pinned caller is in neither; _expire forgets its _seen)."""
        self._seated.pop(id(who), None)
        self._queue = [e for e in self._queue if e[0]() is not who]

    def _expire(self, now: float) -> list:
        """Drop the forgotten (collected) and the unseen; return the unseen that still exist."""
        key_of = {id(e): k for k, e in self._seated.items()}
        for entry in [*self._seated.values(), *self._queue]:
            if entry[0]() is None:
                self._seated.pop(key_of.get(id(entry)), None)
        self._queue = [e for e in self._queue if e[0]() is not None]
        stale = [w for w in (e[0]() for e in [*self._seated.values(), *self._queue])
                 if now - self._seen[id(w)] > self.abandon_s]  # every holder and waiter asked, so was seen
        for w in stale:
            self._drop(w)
        alive = {id(e[0]()) for e in [*self._seated.values(), *self._queue]}
        self._seen = {k: t for k, t in self._seen.items() if k in alive}
        return stale

    def _fill(self, now: float) -> None:
        while self._queue and len(self._seated) < self.seats:
            ref, _ = self._queue.pop(0)
            if ref() is not None:
                self._seated[id(ref())] = [ref, now]

    def _ticket(self, position: int, now: float) -> Ticket:
        ends = sorted(self._turn_left(seat, now) for seat in self._seated.values())  # every seat: someone waits
        return Ticket("wait", ahead=position, eta_s=ends[position % self.seats] + (position // self.seats) * self.turn_s)

    def _turn_left(self, seat, now: float) -> float:
        first_waiting = min(t for _, t in self._queue)
        return max(0.0, self.turn_s - (now - max(seat[1], first_waiting)))

"""Seats, the line, turns and abandoned tabs (gan_core.admission), on a clock the test moves; then the
same rules through TrainSession, as the training page uses them."""
import pytest
import torch

from gan_core.admission import ABANDON_S, Admission, Ticket, default_seats, default_turn_s
from gan_core.config import TrainConfig
from ui.train_session import TrainSession


class Tab:
    """A caller: any object the admission can hold a weak reference to."""


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def desk(clock, seats=2, turn_s=90.0, abandon_s=20.0):
    return Admission(seats, turn_s=turn_s, abandon_s=abandon_s, clock=clock)


def test_seats_then_a_line_in_arrival_order(clock):
    d = desk(clock, seats=2)
    a, b, c, e = (Tab() for _ in range(4))
    assert d.ask(a) == Ticket("run") and d.ask(a) == Ticket("run") and d.counts() == (1, 0)  # every tick asks
    assert d.ask(b) == Ticket("run")
    assert d.ask(c) == Ticket("wait", ahead=0, eta_s=90.0) and d.ask(e) == Ticket("wait", ahead=1, eta_s=90.0)
    assert d.counts() == (2, 2)
    assert d.ask(c).ahead == 0  # asking again keeps the place, never a second one
    assert d.ask(a) == Ticket("run") and d.counts() == (2, 2)  # a seated run asking again does not queue too
    d.leave(a)                  # a pauses: the first in line (c), not the last, sits down
    assert d.holding(c) and not d.holding(e) and d.ask(e).ahead == 0


def test_the_wait_is_the_sooner_turn_end_then_whole_turns(clock):
    d = desk(clock, seats=2, turn_s=90, abandon_s=1e9)
    a, b = Tab(), Tab()
    d.ask(a)
    clock.now += 30
    d.ask(b)
    clock.now += 10
    waiters = [Tab() for _ in range(3)]
    tickets = [d.ask(w) for w in waiters]
    # the turns count from when the first waiter joined (now): both seats have 90 s left
    assert [t.eta_s for t in tickets] == [90.0, 90.0, 180.0]
    clock.now += 50
    assert [d.ask(w).eta_s for w in waiters] == [40.0, 40.0, 130.0]
    clock.now += 45  # both turns are over, their runs not yet paused (that happens on their next tick)
    assert [d.ask(w).eta_s for w in waiters] == [0.0, 0.0, 90.0]


def test_a_turn_ends_only_while_others_wait(clock):
    d = desk(clock, seats=1, turn_s=90, abandon_s=1e9)
    alone, late = Tab(), Tab()
    d.ask(alone)
    clock.now += 600
    assert not d.turn_over(alone)  # ten minutes alone: nobody waits, the run goes on
    d.ask(late)
    assert not d.turn_over(alone)  # a student just pressed Start: the turn starts now, not 10 min ago
    clock.now += 89
    d.seen(alone), d.seen(late)
    assert not d.turn_over(alone)
    clock.now += 1
    assert d.turn_over(alone)
    d.leave(alone)
    assert d.holding(late) and not d.turn_over(late)


def test_callers_that_stop_calling_lose_seat_and_place(clock):
    d = desk(clock, seats=1, abandon_s=20)
    gone, waiting, alive = Tab(), Tab(), Tab()
    d.ask(gone), d.ask(waiting), d.ask(alive)
    clock.now += 15
    d.seen(waiting), d.seen(alive)
    assert d.reap() == []
    clock.now += 10   # gone: 25 s unseen; the others 10 s
    assert d.reap() == [gone]
    assert d.holding(waiting) and d.ask(alive).ahead == 0
    clock.now += 21
    d.seen(alive)
    assert d.reap() == [waiting] and d.holding(alive)


def test_a_session_the_server_forgot_frees_its_seat_without_anyone_reaping(clock):
    import gc
    d = desk(clock, seats=1)
    forgotten, next_one = Tab(), Tab()
    d.ask(forgotten), d.ask(next_one)
    del forgotten
    gc.collect()
    assert d.ask(next_one) == Ticket("run") and d.counts() == (1, 0)
    in_line, last = Tab(), Tab()  # one forgotten while it waits: it leaves the line, the next moves up
    d.ask(in_line), d.ask(last)
    del in_line
    gc.collect()
    assert d.ask(last).ahead == 0 and d.counts() == (1, 1)


def test_the_apps_desk_keeps_a_silent_tab_for_abandon_s_and_no_longer(clock):
    """Admission's defaults are the app's (ui/runtime.py passes seats and turn only): a tab silent for
    ABANDON_S still holds its seat, a moment more and it is gone."""
    d = Admission(1, clock=clock)
    quiet, waiting = Tab(), Tab()
    d.ask(quiet), d.ask(waiting)
    clock.now += ABANDON_S
    d.seen(waiting)
    assert d.reap() == [] and d.holding(quiet)
    clock.now += 0.5
    d.seen(waiting)
    assert d.reap() == [quiet] and d.holding(waiting)
    assert 5 <= ABANDON_S <= 60  # over a slow tick's gap (the page ticks every 1-2 s), under a lesson's patience


def test_seats_come_from_the_hardware_or_the_environment(monkeypatch):
    monkeypatch.delenv("GAN_MAX_TRAININGS", raising=False)
    assert default_seats(2, gpu=False) == 2 and default_seats(1, gpu=False) == 1 and default_seats(16, gpu=False) == 2
    assert default_seats(16, gpu=True) == 4
    monkeypatch.setenv("GAN_MAX_TRAININGS", "5")
    assert default_seats(2, gpu=False) == 5
    for text, seats in (("lots", 2), ("0", 2), ("-3", 2), ("2.5", 2), ("1", 1), (" 3 ", 3), ("", 2)):
        monkeypatch.setenv("GAN_MAX_TRAININGS", text)
        assert default_seats(2, gpu=False) == seats, text
    for text, turn in (("", 90.0), ("20", 20.0), ("2.5", 2.5), ("0.5", 0.5), ("0", 90.0), ("-5", 90.0), ("nan", 90.0), ("inf", 90.0), ("x", 90.0)):
        monkeypatch.setenv("GAN_TURN_S", text)
        assert default_turn_s() == turn, text


# ---------------------------------------------------------------------- through TrainSession

@pytest.fixture
def tiny():
    cfg = TrainConfig.preset("mlp")
    cfg.batch_size, cfg.width = 8, 16
    return torch.rand(64, 1, 28, 28) * 2 - 1, cfg


def sessions(tiny, d, n):
    data, cfg = tiny
    return [TrainSession(data, cfg, device="cpu", admission=d) for _ in range(n)]


def test_a_second_start_queues_and_starts_by_itself_when_the_seat_frees(tiny, clock):
    d = desk(clock, seats=1)
    first, second = sessions(tiny, d, 2)
    first.start()
    second.start()
    assert first.status == "running" and second.status == "queued" and second.ticket.ahead == 0
    assert not second.running  # the page ticks running sessions only
    assert first.tick() > 0
    assert not second.poll() and second.status == "queued"
    first.pause()
    assert second.poll() and second.status == "running" and second.tick() > 0
    first.start()
    assert first.status == "queued"
    second.reset()  # Reset gives the seat back too
    assert first.poll() and first.status == "running"


def test_a_turn_over_pauses_the_run_with_a_notice(tiny, clock):
    d = desk(clock, seats=1, turn_s=90)
    first, second = sessions(tiny, d, 2)
    first.start()
    first.tick()
    second.start()
    for _ in range(7):  # both tabs alive: the run ticks, the waiter polls
        clock.now += 13
        d.seen(first), second.poll()
    steps_before = first.trainer.iteration
    assert first.tick() == 0 and first.trainer.iteration == steps_before
    assert first.status == "paused" and first.notice == "turn_over"
    assert second.poll() and second.status == "running"


def test_an_abandoned_run_is_paused_and_trimmed_by_a_classmates_tick(tiny, clock):
    d = desk(clock, seats=2, abandon_s=20)
    gone, here = sessions(tiny, d, 2)
    gone.snapshot_every_s = 0.0  # a snapshot every tick: a history to trim
    gone.start()
    for _ in range(3):
        gone.tick()
    assert len(gone.trainer.snapshots) >= 3
    here.start()
    clock.now += 25  # gone's tab closed 25 s ago; here just clicked
    d.seen(here)
    assert here.tick() > 0
    assert gone.status == "paused" and gone.notice == "abandoned" and not d.holding(gone)
    assert len(gone.trainer.snapshots) == 1  # the newest grid stays; the history of snapshots went
    assert gone.trainer.iteration > 0        # the weights and the step count stay: Resume goes on
    gone.start()
    assert gone.status == "running" and gone.notice is None


def test_a_pinned_run_sits_outside_the_seats_and_its_turn_never_ends(clock):
    d = desk(clock, seats=1, turn_s=90, abandon_s=1e9)
    teacher, student, other = Tab(), Tab(), Tab()
    d.ask(teacher)
    d.pin(teacher)                      # shared with the class: its seat goes to the line
    assert d.ask(student) == Ticket("run") and d.counts() == (1, 0)
    d.ask(other)
    clock.now += 1000
    assert not d.turn_over(teacher) and d.turn_over(student)
    d.leave(teacher)                    # Pause, then Resume: still outside the seats
    assert d.ask(teacher) == Ticket("run") and d.holding(teacher)
    d.pin(teacher, on=False)            # sharing stopped: an ordinary caller, behind the line
    assert not d.holding(teacher) and d.ask(teacher).ahead == 1


def test_one_sessions_snapshots_stay_under_its_memory_budget(tiny, monkeypatch):
    """An uploaded config may ask for 256 fixed samples x 10,000 snapshots (2 GB): the session keeps
    its timeline within snapshot_budget_bytes, thinning as the trainer always does."""
    data, cfg = tiny
    cfg.n_fixed, cfg.max_snapshots = 256, 10_000
    monkeypatch.setattr(TrainSession, "snapshot_budget_bytes", 256 * 28 * 28 * 10)  # room for 10 grids
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.02)
    monkeypatch.setattr(TrainSession, "snapshot_every_s", 0.0)  # a snapshot every tick
    sess = TrainSession(data, cfg, device="cpu")
    sess.start()
    for _ in range(16):
        sess.tick()
    snaps = sess.trainer.snapshots
    assert 2 <= len(snaps) <= 10 and sum(f.nbytes for _, f in snaps) <= TrainSession.snapshot_budget_bytes
    assert snaps[0][0] == 0 and snaps[-1][0] == sess.trainer.iteration  # still the whole run's span
    assert sess.start_cfg.max_snapshots == 10_000  # the download says what was asked

"""The class run: codes, their end, and a student's read-only page following the teacher's run."""
import gc

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.classroom import TEACHER_GONE_S, ClassRuns
from ui.train_panels import REAL_FAKE_OPEN
from ui.train_session import TrainSession

PAGE = "../views/2_train.py"


class Run:
    """Stands for a teacher's TrainSession: ClassRuns only keeps a weak reference to it."""


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_a_code_names_one_run_until_it_closes():
    classes = ClassRuns()
    a, b = Run(), Run()
    code = classes.open(a)
    assert classes.open(a) == code          # Share pressed twice: the same class
    other = classes.open(b)
    assert other != code and classes.watch(code) is a and classes.watch(other) is b
    assert classes.code_of(a) == code
    classes.close(code)
    assert classes.watch(code) is None and classes.watch(other) is b and classes.code_of(a) is None
    classes.close(code), classes.close(None), classes.close("never-opened")  # Stop sharing twice: nothing to end
    assert classes.watch(other) is b and len(classes) == 1
    for made_up in ("", None, 12, ["a", "list"], {"a": 1}):  # whatever a query string or a caller hands in
        assert classes.watch(made_up) is None


def test_the_class_ends_the_moment_the_run_is_reset():
    """Not when the teacher's page next reruns: a Reset click whose rerun is late (or lost) must still
    end the class, and sharing again afterwards opens a new class under a new code."""
    classes = ClassRuns()
    teacher = Run()
    teacher.resets = 3
    code = classes.open(teacher)
    assert classes.watch(code) is teacher and classes.open(teacher) == code  # no reset: Share again, same class
    teacher.resets += 1
    assert classes.watch(code) is None and len(classes) == 0
    again = classes.open(teacher)
    assert again != code and classes.watch(again) is teacher
    teacher.resets += 1
    fresh = classes.open(teacher)  # Share pressed after a reset nobody watched yet: a new class too
    assert fresh not in (code, again) and classes.watch(again) is None and classes.watch(fresh) is teacher


def test_codes_are_not_guessable():
    classes = ClassRuns()
    codes = {classes.open(Run()) for _ in range(200)}  # (each Run is collected at once; codes still differ)
    assert len(codes) == 200 and all(len(c) >= 11 for c in codes)  # 64 random bits each


def test_the_class_ends_when_the_teacher_is_gone():
    """The app's ClassRuns (its default): a teacher's page silent for TEACHER_GONE_S still holds the class,
    a moment more and the class has ended; the page calls every HEARTBEAT_S, so a missed call or two is fine."""
    from ui.classroom import HEARTBEAT_S
    assert TEACHER_GONE_S >= 3 * HEARTBEAT_S
    clock = Clock()
    classes = ClassRuns(clock=clock)
    teacher = Run()
    code = classes.open(teacher)
    clock.now = 25
    classes.seen(code)
    clock.now = 25 + TEACHER_GONE_S
    assert classes.watch(code) is teacher   # seen TEACHER_GONE_S ago, not more
    clock.now += 0.5
    assert classes.watch(code) is None and len(classes) == 0
    code = classes.open(teacher)
    del teacher
    gc.collect()
    assert classes.watch(code) is None      # the server forgot the teacher's session


@pytest.fixture(autouse=True)
def short_ticks(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)


def teacher_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.selectbox(key="train.w.model").set_value("mlp").run()
    at.number_input(key="train.w.batch_size").set_value(16).run()
    return at


def test_a_student_watching_through_the_app_sees_the_device_badge():
    """The watch view ends its page with st.stop(): the sidebar's device badge, drawn after the page
    on a first run (torch may still be loading), is drawn before the page once torch has loaded."""
    from ui.layout import preload_compute
    teacher = teacher_page()
    teacher.button(key="class.share").click().run()
    code = teacher.session_state["train.shared"][0]
    preload_compute().join(120)  # torch is loaded: the state of any run after a server's first
    student = AppTest.from_file("../app.py", default_timeout=180)
    student.session_state["lang"] = "en"
    student.query_params["class"] = code
    student.switch_page("views/2_train.py").run()
    assert not student.exception and {b.key for b in student.button} == {"class.leave"}, "the watch view"
    assert [c.value for c in student.sidebar.caption if c.value.startswith("Device:")], "the badge"


def test_students_watch_the_teachers_run_live_and_cannot_touch_it():
    teacher = teacher_page()
    teacher.button(key="class.share").click().run()
    code = teacher.session_state["train.shared"][0]
    assert any(code in s.value for s in teacher.success) and any(f"?class={code}" in c.value for c in teacher.code)
    teacher.button(key="train.start").click().run()
    teacher.run()
    run = teacher.session_state["train.session"]

    student = AppTest.from_file(PAGE, default_timeout=180)
    student.query_params["class"] = code
    student.run()
    assert not student.exception, [e.value for e in student.exception]
    assert "train.session" not in student.session_state     # no trainer of its own
    keys = {b.key for b in student.button}
    assert keys == {"class.leave"}                          # nothing that acts on the run
    assert not student.number_input and not student.slider   # and no settings to change
    shown = [m.value for m in student.metric]
    assert f"{run.trainer.iteration:,}" in shown             # the teacher's step counter
    teacher.run()
    student.run()
    assert f"{run.trainer.iteration:,}" in [m.value for m in student.metric]
    assert len(student.get("plotly_chart")) >= 2 and len(student.get("image")) >= 1

    teacher.button(key="train.reset").click().run()          # the teacher resets: the class run ends
    student.run()
    assert any("no class run with this code" in w.value for w in student.warning)
    student.button(key="class.leave").click().run()
    assert "train.session" in student.session_state and student.button(key="train.start")


def _watching_script():
    import streamlit as st

    from ui.train_panels import live_panel, real_fake_panel
    live_panel(st.session_state["run"], watch=lambda: st.session_state["on"])
    real_fake_panel(st.session_state["run"], watch=lambda: st.session_state["on"])


def test_closed_panels_do_not_tick(monkeypatch):
    """Every open page of a class reruns each ticking fragment on the server: a panel nobody opened must not
    tick. "Real next to fake" closed draws nothing; "fool the discriminator" closed keeps its canvas but draws no
    verdict (no clock, no pass of D). Opened, both tick with the curves while the run trains."""
    import streamlit as st

    from ui.fool_panel import OPEN as FOOL_OPEN
    from ui.train_panels import CHART_INTERVAL_S
    made = {}  # fragment name -> its run_every, as the page last made it
    fragment = st.fragment

    def spy(func=None, *, run_every=None):
        if func is None:
            return lambda f: spy(f, run_every=run_every)
        made[func.__name__] = run_every
        return fragment(func, run_every=run_every)
    monkeypatch.setattr(st, "fragment", spy)
    teacher = teacher_page()
    teacher.button(key="train.start").click().run()
    try:
        run = teacher.session_state["train.session"]
        assert run.running and made["_curves"] == CHART_INTERVAL_S
        assert "_pair" not in made and "_verdict" not in made
        teacher.session_state[REAL_FAKE_OPEN] = teacher.session_state[FOOL_OPEN] = True
        made.clear()
        teacher.run()
        assert not teacher.exception, [e.value for e in teacher.exception]
        assert made["_pair"] == CHART_INTERVAL_S and made["_verdict"] == CHART_INTERVAL_S
        teacher.session_state[REAL_FAKE_OPEN] = teacher.session_state[FOOL_OPEN] = False
        made.clear()
        teacher.run()
        assert "_pair" not in made and "_verdict" not in made
    finally:
        teacher.session_state["train.session"].pause()


def test_a_watched_run_that_ends_says_so_in_place_and_shows_nothing_of_what_follows():
    """The student's fragments keep ticking after the class run ends: they say so where they stand
    (no full rerun from a ticking fragment: that once left a page blank) and draw nothing more."""
    teacher = teacher_page()
    teacher.button(key="train.step").click().run()
    run = teacher.session_state["train.session"]
    student = AppTest.from_function(_watching_script, default_timeout=180)
    student.session_state["run"], student.session_state["on"] = run, True
    student.run()
    assert not student.exception, [e.value for e in student.exception]
    assert any("watching" in i.value for i in student.info) and not student.warning
    assert f"{run.trainer.iteration:,}" in [m.value for m in student.metric]
    assert len(student.get("image")) == 1 and len(student.get("plotly_chart")) >= 2   # the grid; the curves
    student.session_state[REAL_FAKE_OPEN] = True   # the student opens "real next to fake"
    student.run()
    assert len(student.get("image")) >= 2   # and the real/fake pair is drawn
    student.session_state["on"] = False   # the teacher reset: the same fragments run again
    student.run()
    assert not student.exception
    assert any("no class run with this code" in w.value for w in student.warning)
    assert not student.metric and not student.get("image") and not student.get("plotly_chart")
    assert not any("watching" in i.value for i in student.info)


def test_the_meter_is_built_once_per_reading_and_language_for_the_whole_class():
    """24 watchers drawing the meter every few seconds share one histogram per reading (and language), as
    they share the curves: a new reading, or a student in another language, builds a new one."""
    from ui.i18n import translate
    teacher = teacher_page()
    teacher.button(key="class.share").click().run()
    code = teacher.session_state["train.shared"][0]
    teacher.button(key="train.step").click().run()
    run = teacher.session_state["train.session"]
    share = [0.1] * 10
    run.scores = {"n": 100, "class_share": share, "confident_share": 0.5, "classes_covered": 10,
                  "min_class_share": 0.1, "max_class_share": 0.1, "frechet": 50.0}
    teacher.run()
    built = run.histogram_cache[2]
    student = AppTest.from_file(PAGE, default_timeout=180)
    student.query_params["class"] = code
    student.run()
    assert not student.exception and run.histogram_cache[2] is built   # drawn, not rebuilt
    run.scores = dict(run.scores, class_share=[0.2] + [0.8 / 9] * 9)  # a new reading
    student.run()
    assert run.histogram_cache[2] is not built and run.histogram_cache[2].data[0].y[0] == 0.2
    student.session_state["lang"] = "he"
    student.run()
    assert run.histogram_cache[1] == "he"
    # in the student's language, as a right-to-left isolate (ui.layout.bidi)
    assert run.histogram_cache[2].layout.title.text == f"\u2067{translate('train.chart.classes', 'he')}\u2069"


def first_image_by_caption(at: AppTest) -> dict:
    """Each caption's first image URL: the live grid comes before the timeline's image of the same step."""
    shown = {}
    for img in at.image:
        if img.captions:
            shown.setdefault(img.captions[0], img.value[0])
    return shown


def test_the_grids_are_encoded_once_per_snapshot_for_the_whole_class(monkeypatch):
    """A watcher draws the teacher's live grid and real/fake pair from the images the teacher's page encoded for
    that snapshot: the bytes st.image made of each grid before they were shared; the next snapshot makes new ones."""
    import numpy as np

    from gan_core.grid import jpeg_bytes, make_grid
    from gan_devkit.apptest_media import record_media
    from ui.i18n import t
    media = record_media(monkeypatch)
    teacher = teacher_page()
    teacher.session_state[REAL_FAKE_OPEN] = True
    teacher.button(key="class.share").click().run()
    code = teacher.session_state["train.shared"][0]
    teacher.button(key="train.step").click().run()
    run = teacher.session_state["train.session"]
    frame, grid_jpegs = run.grid_cache[-1]
    assert frame is run.trainer.snapshots[-1] and run.pair_cache[-1][0] is frame
    pair_jpegs = run.pair_cache[-1][1]
    student = AppTest.from_file(PAGE, default_timeout=180)
    student.query_params["class"] = code
    student.session_state[REAL_FAKE_OPEN] = True
    student.run()
    assert not student.exception
    assert run.grid_cache[-1][1] is grid_jpegs and run.pair_cache[-1][1] is pair_jpegs   # drawn, not encoded again
    shown = first_image_by_caption(student)
    live = media.images[shown[t("train.grid_caption", step=frame[0])]]
    assert live == jpeg_bytes(make_grid(frame[1], nrow=8)) == _st_image_bytes(make_grid(frame[1], nrow=8))
    fake = media.images[shown[t("train.fake_caption", n=len(frame[1]), step=frame[0])]]
    real = media.pixels(shown[t("train.real_caption", n=len(frame[1]))])
    assert fake == live and np.abs(real - make_grid(run.real_grid_images(), nrow=8).astype(float)).mean() < 2.0
    teacher.button(key="train.step").click().run()   # a new snapshot: new images for everyone
    student.run()
    assert run.grid_cache[-1][0] is run.trainer.snapshots[-1] and run.grid_cache[-1][1] is not grid_jpegs
    step, grid = run.trainer.snapshots[-1]
    assert media.images[first_image_by_caption(student)[t("train.grid_caption", step=step)]] == jpeg_bytes(
        make_grid(grid, nrow=8))


def _st_image_bytes(array) -> bytes:
    """What st.image sends for a grey uint8 array (output_format "auto"), outside any page."""
    from streamlit.elements.lib.image_utils import _np_array_to_bytes
    return _np_array_to_bytes(array, output_format="auto")


def test_a_made_up_or_hostile_code_finds_nothing():
    for code in ("aaaaaaaaaaa", "../../etc/passwd", "x" * 5000):
        student = AppTest.from_file(PAGE, default_timeout=180)
        student.query_params["class"] = code
        student.run()
        assert not student.exception
        assert any("no class run with this code" in w.value for w in student.warning)


def test_the_shared_run_takes_no_students_seat(monkeypatch):
    from ui.runtime import admission
    monkeypatch.setenv("GAN_MAX_TRAININGS", "1")
    admission.clear()
    teacher = teacher_page()
    teacher.button(key="train.start").click().run()
    student = teacher_page()
    student.button(key="train.start").click().run()
    assert student.session_state["train.session"].status == "queued"   # one seat, the teacher's
    teacher.button(key="class.share").click().run()                   # shared: out of the seats
    student.run()
    assert student.session_state["train.session"].status == "running"
    assert teacher.session_state["train.session"].status == "running"
    teacher.button(key="class.stop").click().run()                    # unshared: back in line
    assert teacher.session_state["train.session"].status == "queued"

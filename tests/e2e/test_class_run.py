"""The class run in two real browser sessions: the teacher shares and trains, a student opens the link
and watches the same run climb, read-only; the teacher's Reset ends it for the student."""
import json

import pytest

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
STEPS = EN["train.steps"]


def test_a_student_watches_the_teachers_run(page, goto, browser, base_url, screenshot):
    goto("train")
    page.get_by_text(EN["class.title"]).click()
    page.get_by_role("button", name=EN["class.share"]).click()
    link = page.locator('[data-testid="stCode"]').filter(has_text="?class=").first
    link.wait_for()
    code = link.inner_text().strip().split("?class=", 1)[1]
    page.get_by_role("button", name=EN["train.start"]).click()
    page.wait_for_function("() => document.body.innerText.includes('" + EN["train.status.running"] + "')")

    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    try:
        student = ctx.new_page()
        crashes = []  # uncaught errors in the student's page: the message if it goes blank
        student.on("pageerror", lambda e: crashes.append(str(e)[:500]))
        harness.goto(student, base_url, f"train?class={code}")
        student.get_by_text(EN["class.watching"]).wait_for()
        first = _wait_metric_above(student, 0)
        _wait_metric_above(student, first)  # live: it climbs by itself, nobody clicks
        names = student.get_by_role("button").all_inner_texts()  # one snapshot: a rerun may remove a button mid-list
        assert EN["train.start"] not in names and EN["train.reset"] not in names
        assert EN["class.leave"] in names
        harness.screenshot(student, "class-run-student")
        screenshot("class-run-teacher")

        page.get_by_role("button", name=EN["train.reset"]).click()
        try:
            student.get_by_text(EN["class.not_found"]).wait_for(timeout=30_000)
        except Exception as e:
            body = student.inner_text("body").strip()
            raise AssertionError(f"the student's page never said the class ended; page text {body[:200]!r}, "
                                 f"uncaught errors {crashes}") from e
        names = student.get_by_role("button").all_inner_texts()  # one snapshot: a rerun may remove a button mid-list
        assert EN["train.start"] not in names   # nothing of the teacher's next run appears
        harness.assert_no_exception(student)
    finally:
        ctx.close()


def _wait_metric_above(pg, n, timeout_ms=60_000):
    waited = 0
    while waited < timeout_ms:
        value = harness.metric_int(pg, STEPS)
        if value > n:
            return value
        pg.wait_for_timeout(250)
        waited += 250
    raise AssertionError(f"the watched step counter stayed at {harness.metric_int(pg, STEPS)}")

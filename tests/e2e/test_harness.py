"""The browser harness's own readings, on a page written here: a test that reads the wrong metric, or fails
without saying what the page showed, sends whoever reads CI's log hunting."""
import pytest

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

PAGE = """<div data-testid="stApp" data-test-script-state="running" data-test-connection-state="CONNECTED">
  <div data-testid="stMetric"><div data-testid="stMetricLabel">Steps/s</div><div data-testid="stMetricValue">52.4</div></div>
  <div data-testid="stMetric" data-stale="true">
    <div data-testid="stMetricLabel"> Steps </div><div data-testid="stMetricValue">1,234</div></div>
  <div data-testid="stMetric"><div data-testid="stMetricLabel">تکرار</div><div data-testid="stMetricValue">۰</div></div>
</div>"""


@pytest.fixture
def bare(browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.set_content(PAGE)
    yield page
    ctx.close()


def test_a_metric_is_read_by_its_exact_label(bare):
    assert harness.metric_text(bare, "Steps") == "1,234"  # not "Steps/s", listed first
    assert harness.metric_int(bare, "Steps") == 1234
    assert harness.metric_text(bare, "Steps/s") == "52.4"


def test_a_metric_that_never_comes_is_reported_with_what_the_page_showed(bare):
    with pytest.raises(AssertionError) as e:
        harness.metric_text(bare, "Iteration", timeout_ms=300)
    said = str(e.value)
    assert "'Iteration' after 0.3 s" in said
    assert '["Steps/s","Steps","تکرار"]' in said
    assert "script running" in said and "connection CONNECTED" in said
    assert "1 stale" in said and "0 exceptions" in said

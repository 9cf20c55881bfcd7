"""The digit histogram a class reads on the training page: every digit named, digits under the coverage
line greyed, the 10% line named where it covers nothing."""
import numpy as np
import pytest

from ui import charts


def test_the_digit_histogram_names_every_digit_and_greys_the_rare_ones():
    share = np.array([0.2, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.09, 0.1])
    fig = charts.class_histogram(share, coverage_min=0.05)
    bars = fig.data[0]
    assert list(fig.layout.xaxis.tickvals) == [str(d) for d in range(10)]
    assert list(bars.x) == [str(d) for d in range(10)]
    assert [c == "#bbbbbb" for c in bars.marker.color] == [d == 1 for d in range(10)]
    assert list(bars.text) == ["20%", "1%", "10%", "10%", "10%", "10%", "10%", "10%", "9%", "10%"]


def test_the_uniform_line_is_named_in_the_legend_not_on_the_bars():
    fig = charts.class_histogram(np.full(10, 0.1))
    assert [s.y0 for s in fig.layout.shapes] == [0.1]
    assert not fig.layout.annotations
    legend = [d for d in fig.data if d.showlegend is not False]
    assert [d.name for d in legend] == [charts.t("train.chart.uniform")]
    assert legend[0].line.dash == fig.layout.shapes[0].line.dash
    assert fig.layout.yaxis.range[1] >= 0.35


def _curves():
    n = 40
    cols = {k: np.linspace(0, 1, n) for k in ("step", "d_loss", "g_loss", "d_real_acc", "d_fake_acc", "g_success")}
    cols["skipped_d"] = cols["skipped_g"] = np.zeros(n)
    return cols


def _texts(fig):
    """Every string plotly draws in the SVG: the title, the axes' titles, the legend's names."""
    return [fig.layout.title.text, fig.layout.xaxis.title.text] + [d.name for d in fig.data if d.showlegend is not False]


@pytest.mark.parametrize("lang, rtl", [("he", True), ("fa", True), ("en", False), ("uk", False)])
def test_chart_text_is_isolated_right_to_left_in_hebrew_and_persian(monkeypatch, lang, rtl):
    """Plotly draws its text in an SVG that reads left to right: "הפסד D" came out with D on the right. An
    isolate (U+2067 ... U+2069) around each string makes it one right-to-left phrase; LTR languages untouched."""
    from ui import i18n, layout
    monkeypatch.setattr(i18n, "current_lang", lambda: lang)
    monkeypatch.setattr(layout, "current_lang", lambda: lang)
    for fig in (charts.loss_figure(_curves()), charts.accuracy_figure(_curves()), charts.class_histogram(np.full(10, 0.1))):
        for text in _texts(fig):
            plain = text.strip("\u2067\u2069")
            assert plain in i18n._table(lang).values(), text  # the translation itself, nothing else added
            assert (text == f"\u2067{plain}\u2069") if rtl else (text == plain), (lang, text)

"""The training page through Streamlit's AppTest: every at.run() is one tick while a run is on.

(AppTest has no browser timer, so run_every never fires by itself; a rerun executes the fragment,
which ticks when the session is running or a Step was asked for - the same code the timer calls.)
"""
import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from ui.train_session import PAGE_MODELS, TrainSession

PAGE = "../views/2_train.py"


@pytest.fixture(autouse=True)
def no_auto_scores(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)  # scored explicitly where tested
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)  # short ticks keep the suite fast


def open_page(model="mlp", batch=16, **numbers) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="train.w.model").set_value(model).run()
    for name, value in {"batch_size": batch, **numbers}.items():
        at.number_input(key=f"train.w.{name}").set_value(value)
    at.run()
    return at


def sess(at) -> TrainSession:
    return at.session_state["train.session"]


def steps(at) -> int:
    return sess(at).trainer.iteration if sess(at).trainer else 0


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def test_start_ticks_pause_step_reset():
    at = open_page()
    assert steps(at) == 0 and any("Start" in i.value for i in at.info)
    at.button(key="train.start").click().run()
    assert steps(at) > 0 and sess(at).status == "running"
    assert len(at.get("plotly_chart")) >= 2 and len(at.get("image")) >= 1
    specs, n = chart_specs(at), steps(at)
    at.run()
    at.run()
    assert steps(at) > n, "each rerun of a running page is a tick"
    assert chart_specs(at) != specs, "the curves change tick by tick"

    at.button(key="train.pause").click().run()
    n = steps(at)
    at.run()
    assert steps(at) == n and sess(at).status == "paused"
    assert at.button(key="train.start").label.endswith("Resume")

    at.button(key="train.step").click().run()
    k = steps(at) - n
    assert k >= 1 and sess(at).status == "paused"
    at.run()
    assert steps(at) == n + k, "Step is one tick, not a restart"

    at.button(key="train.reset").click().run()
    assert sess(at).trainer is None and sess(at).status == "idle"
    assert not at.get("plotly_chart")
    assert not at.exception


@pytest.mark.parametrize("model", PAGE_MODELS)
def test_each_model_trains_a_tick(model):
    at = open_page(model, batch=8, width=16)
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    s = sess(at)
    assert s.trainer.cfg.model == model and steps(at) >= 1 and s.error is None
    n_charts = len(at.get("plotly_chart"))
    # the Wasserstein chart is for WGAN models only; the VAE (not a GAN) has one chart, its ELBO, and no D to plot
    assert n_charts == (1 if model == "vae" else 3 if model.startswith("wgan") else 2)


def test_a_wgan_says_its_preset_is_not_the_papers_recipe():
    """The WGANs' presets (1 critic step, a higher rate) differ from what the Architectures page quotes from the
    papers: the sidebar says so beside n_critic, for the WGANs only, with the presets' own rates, widths,
    penalty's weight and schedule, critic's dense layer and clipping bound (each model's in its place)."""
    from gan_core import registry
    from ui.i18n import translate
    from ui.train_settings import rate_text, wgan_note_values
    gp, clip = registry.get("wgan-gp").preset, registry.get("wgan").preset
    note = translate("train.wgan_preset_note", "en", **wgan_note_values())
    assert f"{rate_text(gp['lr_g'])} for G and {rate_text(gp['lr_d'])} for the critic (with clipping: " \
           f"{rate_text(clip['lr_g'])} for G, {rate_text(clip['lr_d'])} for the critic)" in note  # G's first, each its own
    assert f"width {gp['width']} (with clipping: {clip['width']}, and the clipping bound c = {clip['clip']:g} rather" in note
    assert f"the penalty, weighted {gp['gp_weight']:g} rather than" in note and "{" not in note
    assert f"once every {gp['gp_every']} critic steps" in note and f"a dense layer of {gp['d_hidden']} units" in note
    for model, shown in (("wgan", True), ("wgan-gp", True), ("dcgan", False)):
        at = open_page(model)
        assert (note in [c.value for c in at.sidebar.caption]) is shown, model


def test_an_equalized_preset_says_why_its_rates_are_high():
    """Progressive growing's D rate (ProGAN's equalized learning rate) reads higher than the others': the sidebar says why, for
    the models whose preset has it on, and the config the page starts from has it on."""
    from gan_core import registry
    from ui.i18n import translate
    note = translate("train.equalized_lr_note", "en")
    for model in ("progressive", "dcgan"):
        at = open_page(model)
        on = registry.get(model).preset.get("equalized_lr", "none") != "none"
        assert (note in [c.value for c in at.sidebar.caption]) is on, model
        assert (sess(at).template.equalized_lr != "none") is on
    assert registry.get("progressive").preset["equalized_lr"] == "d"


def test_a_preset_with_a_rate_cut_says_when_its_rates_drop():
    """The default's preset cuts G's rate after 1,000 steps (lr_cut_at, lr_cut; D keeps its own, lr_cut_d=1): the
    rates in the sidebar are the ones before it, so the sidebar says from which step and by what factors, quoting
    the preset's own numbers (the step grouped as the step meter's), for the models with a cut only."""
    from gan_core import registry
    notes = {}
    for model in ("cdcgan", "dcgan"):
        at = open_page(model)
        notes[model] = [c.value for c in at.sidebar.caption if c.value.startswith("From step")]
        assert sess(at).template.lr_cut_at == registry.get(model).preset.get("lr_cut_at", 0)
    assert notes["dcgan"] == []
    assert len(notes["cdcgan"]) == 1
    assert notes["cdcgan"][0].startswith("From step 1,000 on, G's learning rate is multiplied by 0.3 and D's by 1:")
    assert "each batch is also 2 times as large (32 digits)" in notes["cdcgan"][0]  # lr_cut_batch, on the batch set (16)


@pytest.mark.parametrize("cut_at, cut_d, grow, label", [(2, 0.0, 1, "rates ×0.25"), (2, 1.0, 1, "G ×0.25, D ×1"),
                                                        (2, 1.0, 2, "G ×0.25, D ×1, batch ×2"), (10**6, 0.0, 1, None)])
def test_the_curves_mark_the_step_where_the_rates_were_cut(cut_at, cut_d, grow, label):
    """Once a run is past its rate cut (lr_cut_at), the loss and accuracy curves carry a dotted line at that step,
    named with the factor (G's and D's where D has its own, lr_cut_d, and the batch's, lr_cut_batch), as the sidebar's
    note names them; before it (here: a cut the run never reaches), no line."""
    import json
    from dataclasses import replace
    at = open_page("dcgan", batch=8)
    s = sess(at)
    s.template = replace(s.template, lr_cut_at=cut_at, lr_cut=0.25, lr_cut_d=cut_d, lr_cut_batch=grow, width=8)
    at.run()
    note = [c.value for c in at.sidebar.caption if c.value.startswith("From step")]
    both = "both learning rates are multiplied by 0.25:"
    assert len(note) == 1 and (both in note[0]) is (cut_d == 0.0)
    assert ("G's learning rate is multiplied by 0.25 and D's by 1:" in note[0]) is (cut_d == 1.0)
    assert ("each batch is also 2 times as large (16 digits)" in note[0]) is (grow == 2)
    assert at.number_input(key="train.w.batch_size").max == 1024 // grow  # the grown batch stays within its bound
    while s.trainer is None or s.trainer.iteration < 4:
        at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    for chart in at.get("plotly_chart")[:2]:  # the losses, then D's and G's accuracy
        layout = json.loads(chart.proto.spec)["layout"]
        dotted = [sh["x0"] for sh in layout.get("shapes", [])  # vertical lines only (the 0.5 line is horizontal)
                  if sh["line"].get("dash") == "dot" and sh.get("x0") == sh.get("x1")]
        names = [a["text"] for a in layout.get("annotations", [])]
        assert dotted == ([2] if cut_at == 2 else []), layout.get("title")
        assert [n for n in names if "×" in n] == ([label] if label else [])


def test_a_learning_rate_reads_as_the_papers_write_it():
    from ui.train_settings import rate_text
    assert [rate_text(r) for r in (4e-3, 5e-4, 2.5e-4, 1e-2)] == ["4e-3", "5e-4", "2.5e-4", "1e-2"]


def test_the_class_weight_shows_for_the_conditional_model_only_and_reaches_its_run():
    """AC-GAN's fidelity against variety, to try: the default (conditional) model shows G's class weight at
    its preset's 0.2, a Step trains with the value set, and an unconditional model has no such widget."""
    at = open_page("cdcgan", width=8)
    assert at.number_input(key="train.w.g_class_weight").value == pytest.approx(0.2)
    at.number_input(key="train.w.g_class_weight").set_value(1.0).run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert sess(at).trainer.cfg.g_class_weight == pytest.approx(1.0)
    at = open_page("dcgan")
    assert "train.w.g_class_weight" not in [w.key for w in at.number_input]


def test_r1_shows_for_the_gans_on_logits_and_reaches_the_run():
    """R1 to try: progressive growing's field starts at its preset's gamma, a Step trains with the value set (0: off,
    a plain D step per iteration), and its help names the preset's lazy interval; a critic (WGAN) and the slides' sigmoid
    D have no such field."""
    from gan_core.config import TrainConfig
    preset = TrainConfig.preset("progressive")
    at = open_page("progressive", width=8)
    field = at.number_input(key="train.w.r1")
    assert preset.r1 > 0 and field.value == pytest.approx(preset.r1)
    assert f"every {preset.r1_every} steps" in field.help
    field.set_value(0.0).run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert sess(at).trainer.cfg.r1 == 0.0
    at = open_page("dcgan")
    assert at.number_input(key="train.w.r1").value == 0.0
    for model in ("wgan", "wgan-gp", "slides"):
        assert "train.w.r1" not in [w.key for w in open_page(model).number_input], model


def test_nan_stops_with_message_and_reset_not_traceback():
    at = open_page()
    at.button(key="train.start").click().run()
    with torch.no_grad():
        for p in sess(at).trainer.G.parameters():
            p.fill_(float("nan"))
    at.run()
    assert not at.exception
    assert sess(at).status == "diverged" and not sess(at).running
    assert any("diverged" in e.value for e in at.error)
    assert at.button(key="train.start").disabled
    at.button(key="train.reset").click().run()
    assert sess(at).status == "idle" and not at.error


def test_live_lr_applies_and_seed_change_asks_for_reset():
    at = open_page()
    at.button(key="train.start").click().run()
    at.number_input(key="train.w.lr_g").set_value(3e-3).run()
    assert sess(at).trainer.opt_g.param_groups[0]["lr"] == pytest.approx(3e-3)
    assert not at.warning
    n = steps(at)
    at.number_input(key="train.w.seed").set_value(5).run()
    assert sess(at).trainer.cfg.seed == 0 and steps(at) > n, "the run goes on with its old seed"
    assert any("Seed" in w.value and "Reset" in w.value for w in at.warning)  # the field by its label


def test_switching_pages_keeps_settings_and_run():
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    at.switch_page("views/2_train.py").run()
    at.selectbox(key="train.w.model").set_value("mlp").run()
    at.number_input(key="train.w.lr_d").set_value(3e-4).run()
    at.button(key="train.start").click().run()
    at.button(key="train.pause").click().run()
    n = steps(at)
    at.switch_page("views/1_architectures.py").run()
    assert "train.w.lr_d" not in at.session_state, "Streamlit drops the state of widgets it did not draw"
    at.switch_page("views/2_train.py").run()
    assert at.number_input(key="train.w.lr_d").value == pytest.approx(3e-4)
    assert at.selectbox(key="train.w.model").value == "mlp"
    assert steps(at) == n and sess(at).status == "paused" and not at.warning and not at.exception


def test_two_sessions_do_not_share_a_run():
    a, b = open_page(), open_page()
    a.button(key="train.start").click().run()
    b.run()
    assert sess(a) is not sess(b)
    assert steps(a) > 0 and sess(b).trainer is None


def test_mode_collapse_meter_and_memorization_check(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 0.0)
    monkeypatch.setattr(TrainSession, "score_n", 100)
    at = open_page()
    at.button(key="train.step").click().run()
    s = sess(at)
    assert s.scores is not None and len(at.get("plotly_chart")) == 3  # losses, accuracies, class histogram
    assert any("samples at step" in c.value for c in at.caption)
    at.button(key="train.memo_run").click().run()
    assert not at.exception
    assert s.memo is not None and s.memo["idx"].shape == (6, 3)
    assert len(at.get("image")) >= 1 + 6 * 4


@pytest.mark.parametrize("text, expected", [("0.5", 0.5), ("", 2.0), ("fast", 2.0), ("0", 2.0), ("nan", 2.0)])
def test_chart_interval_from_the_environment(monkeypatch, text, expected):
    from ui.train_panels import _chart_interval
    monkeypatch.setenv("GAN_CHART_INTERVAL_S", text)
    if expected == 2.0 and text:
        with pytest.warns(UserWarning, match="GAN_CHART_INTERVAL_S"):
            assert _chart_interval() == expected
    else:
        assert _chart_interval() == expected


@pytest.mark.parametrize("content, code", [
    (b'{"model": "mlp", "batch_size": 0}', "config.out_of_range"),
    (b'{"model": "face-exercise"}', "config.not_here"),       # trains on image folders, not on this page
    (b"{not json", "config.not_json"),
    (b'{"model": "mlp", "modle": 1}', "config.unknown_keys"),
    (b"[" * 200_000, "config.not_json"),                      # huge: refused before parsing
])
def test_run_config_upload_refusals_keep_the_settings(content, code):
    """A bad config file is refused with its reason in words; nothing it said is half-applied."""
    from gan_core.messages import ENGLISH
    at = open_page(batch=24)
    at.sidebar.file_uploader(key="train.upload").set_value(("run.json", content, "application/json")).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.sidebar.error)
    assert "run.json" in shown and ENGLISH[code].split("{")[0].strip(" '") in shown, shown
    assert at.number_input(key="train.w.batch_size").value == 24 and sess(at).template.batch_size != 0


def test_run_config_upload_applies_a_good_file():
    at = open_page()
    good = b'{"model": "dcgan", "batch_size": 40, "lr_g": 0.0005, "seed": 7, "d_norm": "layer", "lr_cut_at": 2200}'
    at.sidebar.file_uploader(key="train.upload").set_value(("good.json", good, "application/json")).run()
    assert not at.exception and at.sidebar.success
    assert (sess(at).cfg.d_norm, sess(at).cfg.lr_cut_at) == ("layer", 2200)  # no widget: kept from the file
    assert at.selectbox(key="train.w.model").value == "dcgan"
    assert (at.number_input(key="train.w.batch_size").value, at.number_input(key="train.w.seed").value) == (40, 7)
    assert at.number_input(key="train.w.lr_g").value == pytest.approx(5e-4)


# ---------------------------------------------------------------- downloads, timeline, cap, meter

@pytest.fixture
def media(monkeypatch):
    from gan_devkit.apptest_media import record_media
    return record_media(monkeypatch)


def test_downloads_give_the_live_generator_and_the_start_config(media, tmp_path):
    import io
    import zipfile

    from gan_core.hub import load_model
    from gan_core.training import TrainConfig
    at = open_page()
    at.button(key="train.step").click().run()
    at.button(key="train.step").click().run()
    # a live change after the start: the config download is the run's START config, not the current one
    at.number_input(key="train.w.lr_g").set_value(3e-3).run()
    s = sess(at)
    assert s.trainer.cfg.lr_g == pytest.approx(3e-3) and s.start_cfg.lr_g != pytest.approx(3e-3)
    cfg_bytes = media.download("mnist-mlp-config.json")
    assert TrainConfig.from_json(cfg_bytes) == s.start_cfg

    blob = media.download("mnist-mlp-generator.zip")  # the page's own deferred callable, as a click runs it
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        z.extractall(tmp_path)
    G = load_model(tmp_path / "mnist-mlp")
    tr = s.trainer
    assert tr.generator is tr.G_ema, "the mlp preset samples from the EMA copy"
    with torch.no_grad():
        assert torch.equal(G(tr.fixed_z), tr.fixed_samples()), "the zip holds the generator the page shows"
        assert not torch.equal(G(tr.fixed_z), tr.G.eval()(tr.fixed_z)), "... the EMA copy, not the raw G"
    tr.G.train()


def test_timeline_shows_the_chosen_step_and_the_gif_has_every_snapshot(media):
    import io

    from PIL import Image

    from gan_core.grid import make_grid
    from ui.i18n import t
    at = open_page()
    for _ in range(3):
        at.button(key="train.step").click().run()
    snaps = sess(at).trainer.snapshots
    steps_ = [s for s, _ in snaps]
    assert len(snaps) >= 3 and steps_[0] == 0
    slider = at.select_slider(key="train.timeline")
    assert slider.value == steps_[-1]
    earlier = steps_[1]
    slider.set_value(earlier).run()
    assert not at.exception
    shown = [(img.captions[0], img.value[0]) for img in at.image if img.captions]
    caption = t("train.grid_caption", step=earlier)
    urls = [u for c, u in shown if c == caption]
    assert len(urls) == 1, shown  # the live grid names the newest step, the timeline the chosen one
    pixels = media.pixels(urls[0]).astype(float)  # st.image may send a JPEG: compare, don't equate
    pixels = pixels if pixels.ndim == 2 else pixels[..., 0]
    grids = {s: make_grid(f, nrow=8).astype(float) for s, f in snaps}
    err = {s: np.abs(pixels - g).mean() for s, g in grids.items()}
    assert min(err, key=err.get) == earlier and err[earlier] < 2.0, err

    gif = Image.open(io.BytesIO(media.download("gan-training.gif")))
    assert gif.n_frames == len(snaps)

    # a step the student chose stays chosen while training goes on; at the newest step it follows
    at.button(key="train.step").click().run()
    assert at.select_slider(key="train.timeline").value == earlier
    last = sess(at).trainer.snapshots[-1][0]
    at.select_slider(key="train.timeline").set_value(last).run()
    at.button(key="train.step").click().run()
    newest = sess(at).trainer.snapshots[-1][0]
    assert newest > last and at.select_slider(key="train.timeline").value == newest


def test_step_cap_stops_exactly_at_the_cap_with_a_warning(monkeypatch):
    from ui.i18n import t
    cap = 7
    monkeypatch.setattr(TrainSession, "max_steps", cap)
    monkeypatch.setattr(TrainSession, "score_n", 50)
    at = open_page()
    at.button(key="train.start").click().run()
    for _ in range(cap + 2):
        if sess(at).status == "capped":
            break
        at.run()
    s = sess(at)
    assert s.status == "capped" and not s.running
    assert steps(at) == cap and s.columns["step"][-1] == cap, "the last tick stops at the cap, not past it"
    assert s.scores is not None and s.scores_step == cap, "the reading at the cap is the final one"
    assert any(t("train.capped", steps=f"{cap:,}") == w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key="train.start").disabled and at.button(key="train.step").disabled
    at.run()
    assert steps(at) == cap and sess(at).status == "capped"


def _scores(frechet, covered):
    """A reading shaped like gan_core.metrics.scores_from_features's, spread evenly over `covered` digits."""
    share = [round(1 / covered, 4) if d < covered else 0.0 for d in range(10)]
    return {"n": 500, "class_share": share, "confident_share": 0.9, "classes_covered": covered,
            "min_class_share": min(share), "max_class_share": max(share), "frechet": frechet}


@pytest.mark.parametrize("frechet, covered, kind", [
    (1000.0, 1, "info"),      # blobs (the classifier calls them all "8"): too early, no false alarm
    (50.0, 5, "error"),       # digits, but only 5 classes: collapse, with the count
    (50.0, 10, "success"),
])
def test_mode_collapse_meter_shows_the_right_verdict(frechet, covered, kind):
    from gan_core.messages import Message
    from ui.i18n import msg, t
    at = open_page()
    at.button(key="train.step").click().run()
    sess(at).scores = _scores(frechet, covered)
    sess(at).scores_step = 1
    at.run()
    assert not at.exception
    verdicts = {"info": t("train.meter_early"), "success": t("train.meter_ok"),
                "error": msg(Message("metrics.collapse", {"covered": covered}))}  # the page prefixes a ⚠️
    assert f"only {covered} of 10" in verdicts["error"]
    boxes = {"info": [e.value for e in at.info], "error": [e.value for e in at.error],
             "success": [e.value for e in at.success]}
    shown = {(k, v) for k, texts in boxes.items() for text in texts for v in verdicts.values() if text.endswith(v)}
    assert shown == {(kind, verdicts[kind])}, boxes


def test_the_meter_puts_its_distance_beside_as_many_real_digits():
    """The Frechet scale depends on the sample count: the caption quotes what the reading's own n of real
    digits read (200 here), not a figure measured with another n."""
    from gan_core.metrics import real_frechet_mean
    from ui.i18n import t
    at = open_page()
    at.button(key="train.step").click().run()
    sess(at).scores = dict(_scores(50.0, 10), n=200)
    sess(at).scores_step = 1
    at.run()
    real = real_frechet_mean(200)
    assert real > real_frechet_mean(500)  # the figure does depend on n
    want = t("train.meter_caption", n=200, step=1, confident="90%", covered=10, frechet="50", real=f"{real:.0f}")
    assert want in [c.value for c in at.caption], [c.value for c in at.caption]


def test_the_first_visit_readies_the_meters_yardstick_before_a_start(monkeypatch):
    """The loading spinner computes what a reading's n real digits read on the meter's scale, so the first
    reading of the first Start finds it ready (left to that reading, it held training and the page 1.6 s
    on 2 cores)."""
    from gan_core import metrics
    from ui import train_resources
    monkeypatch.setattr(TrainSession, "score_every_s", 0.0)
    monkeypatch.setattr(TrainSession, "score_n", 64)
    asked, real = [], metrics.real_frechet_mean
    monkeypatch.setattr(metrics, "real_frechet_mean", lambda n, *a, **k: asked.append(n) or real(n, *a, **k))
    train_resources.digit_scorer_ready.clear()
    train_resources.real_digits_frechet.clear()
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert asked == [64], "computed while the page loads"
    at.button(key="train.step").click().run()
    assert sess(at).scores is not None and sess(at).scores["n"] == 64
    assert not at.exception and asked == [64], "the first reading finds it ready"


def test_the_first_visit_warms_training_up_in_the_background(monkeypatch):
    """The server's one-time warm-up (a throwaway run: torch's first optimizer imports, oneDNN's first
    kernels) starts at the first visit and the page does not wait for it: drawn, Start pressed and a
    step trained while it still runs; it runs once per server, on the compute runtime."""
    import threading
    from gan_core import training
    from ui import train_resources
    release, calls = threading.Event(), []

    def slow_warm_up(data, labels=None):
        calls.append((len(data), threading.current_thread().name))
        assert release.wait(60), "never released"
    monkeypatch.setattr(training, "warm_up", slow_warm_up)
    train_resources.training_warm_up.clear()
    try:
        at = open_page()
        assert not at.exception and at.button(key="train.start")
        at.button(key="train.step").click().run()
        warming = train_resources.training_warm_up()
        assert warming.is_alive() and steps(at) > 0, "the page and a step did not wait for the warm-up"
        open_page()
        assert len(calls) == 1 and calls[0][0] == 256 and calls[0][1].startswith("gan-compute")
    finally:
        release.set()
    warming.join(30)
    assert not warming.is_alive()
    train_resources.training_warm_up.clear()


def test_a_full_server_queues_a_start_and_the_run_begins_by_itself(monkeypatch):
    """Two browser sessions, one seat: the second Start waits in a visible line with its wait, and
    starts on its next tick once the first pauses, without a click."""
    from ui.runtime import admission
    monkeypatch.setenv("GAN_MAX_TRAININGS", "1")
    admission.clear()
    first, second = open_page(), open_page()
    first.button(key="train.start").click().run()
    second.button(key="train.start").click().run()
    assert sess(first).status == "running" and sess(second).status == "queued"
    line = [i.value for i in second.info if "seats are taken" in i.value]
    assert len(line) == 1 and "You are next, in about 90 s" in line[0]
    assert second.button(key="train.start").disabled and not second.button(key="train.pause").disabled
    n = steps(first)
    second.run()
    assert steps(second) == 0 and sess(second).status == "queued"
    first.run()
    assert steps(first) > n
    first.button(key="train.pause").click().run()
    second.run()  # the page's next poll finds the free seat
    assert sess(second).status == "running"
    second.run()
    assert steps(second) > 0 and not [i for i in second.info if "seats are taken" in i.value]

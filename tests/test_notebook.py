"""Take it home: the exported notebook is valid nbformat, imports nothing of this repo, and its code,
run as a script offline (the repo's MNIST files via GAN_NB_MNIST), repeats the run's losses."""
import inspect
import json
import os
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from PIL import Image

from gan_core import models, notebook, registry
from gan_core.config import TrainConfig
from gan_core.messages import GanError
from gan_core.pipelines import load_training_data
from gan_core.registry import MODELS
from gan_core.training import Trainer
from gan_devkit.cli_run import cli

# The script runs with this project's packages made unimportable: the notebook must not need them.
BLOCK = "import sys; sys.modules.update(gan_core=None, ui=None, gan_devkit=None); exec(open('run.py').read())"


def execute(nb, folder, root, steps: int | None = None) -> list[dict]:
    """The notebook's code cells as one script in a fresh process; its metrics.jsonl."""
    (folder / "run.py").write_text(notebook.code(nb))
    env = {**os.environ, "GAN_NB_MNIST": str(root / "data" / "mnist" / "train-*.npz"), "GAN_NB_OUT": str(folder),
           "MPLBACKEND": "Agg"}
    if steps is not None:
        env["GAN_NB_STEPS"] = str(steps)
    r = subprocess.run([sys.executable, "-c", BLOCK], cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def tiny(model, **kw) -> TrainConfig:
    return TrainConfig.preset(model, **{"batch_size": 16, "width": 32 if model == "mlp" else 16, **kw})


# dcgan and cdcgan with R1 on every 2nd step: iteration 0's R1 step moves D (and ages Adam's moments of the weights
# with no say in it), so step 2's losses differ unless the loop replays it
# D's turn as one forward of both batches, as the Trainer's: mlp, slides, wgan-gp, and cdcgan without batch norm in D;
# cdcgan, dcgan and wgan with D's batch norm split in halves (gan_core.halves)
@pytest.mark.parametrize("model, extra", [("mlp", {}), ("slides", {}), ("cdcgan", {}), ("wgan-gp", {}), ("wgan", {}),
                                          ("dcgan", {"r1": 2.0, "r1_every": 2}), ("cdcgan", {"r1": 2.0, "r1_every": 2}),
                                          ("cdcgan", {"d_norm": "none"}), ("mlp", {"lr_cut_at": 1, "lr_cut": 0.1}),
                                          ("mlp", {"lr_cut_at": 1, "lr_cut": 0.1, "lr_cut_d": 1.0}),
                                          ("cdcgan", {"lr_cut_at": 1, "lr_cut_batch": 2})])
def test_notebook_is_valid_and_its_code_repeats_the_trainer(model, extra, tmp_path, root):
    cfg = tiny(model, **extra)
    nb = nbformat.reads(notebook.dumps(notebook.build(cfg, steps=500)), as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    source = notebook.code(nb)
    assert not re.search(r"^\s*(from|import)\s+(gan_core|ui|gan_devkit)\b", source, re.MULTILINE)
    assert "PyTorchModelHubMixin" not in source and "STEPS = int(os.environ.get(\"GAN_NB_STEPS\", 500))" in source
    assert ("def r1_penalty" in source) is ("r1" in extra)
    assert ('CONFIG["lr_cut"]' in source) is (cfg.lr_cut_at > 0)  # the default's preset has a cut, mlp's not
    # the trainer's convolutions into one channel (gan_core.one_channel), copied and swapped in as the Trainer does
    assert ("G, D = swap_in(G), swap_in(D)" in source) is (model not in ("mlp", "slides"))
    for net in registry.get(model).build(cfg, 1, 28):  # below the class line (whose Hub mixin goes), verbatim
        assert inspect.getsource(type(net)).split("\n", 1)[1] in source, type(net).__name__

    halved = model in ("cdcgan", "dcgan", "wgan") and "d_norm" not in extra
    assert "torch.cat([x, fake" in source  # one forward
    assert ("with split(D_norms):" in source) is ("D_norms = halve_norms(D)" in source) is halved
    got = execute(nb, tmp_path, root, steps=3)
    data = load_training_data("mnist")
    want = Trainer(cfg, data.images, device="cpu", labels=data.labels if cfg.num_classes else None).step(3)
    assert [m["step"] for m in got] == [1, 2, 3]
    for g, w in zip(got, want):  # the same seeds, the same order of draws: the same numbers
        assert np.isfinite([g["d_loss"], g["g_loss"]]).all()
        assert g["d_loss"] == pytest.approx(w["d_loss"], rel=1e-5) and g["g_loss"] == pytest.approx(w["g_loss"], rel=1e-5)
    picture = np.asarray(Image.open(tmp_path / "samples.png"))
    assert picture.shape == (2 + 8 * 30, 2 + 8 * 30) and picture.std() > 0  # 64 tiles of 28 px, not blank


def test_a_d_whose_batch_norm_is_not_halved_judges_in_two_forwards():
    """As the Trainer: a critic whose norm of 8 channels is a NarrowBatchNorm there (width 4) is not split in halves,
    so the notebook's D's turn sends real and fake through it apart."""
    source = notebook.code(notebook.build(tiny("wgan", width=4), steps=10))
    assert "real_s, fake_s = D(x).float(), D(fake.detach()).float()" in source
    assert "torch.cat([x, fake" not in source and "halve_norms" not in source


def test_cli_notebook_of_a_saved_run_repeats_its_metrics(tmp_path, root):
    run = tmp_path / "run"
    cli("train", "--model", "slides", "--steps", 3, "--batch-size", 16, "--width", 16, "--no-score", "--out", run,
        cwd=tmp_path)
    out = tmp_path / "nb" / "run.ipynb"
    summary = json.loads(cli("notebook", run, "--out", out, cwd=tmp_path).stdout)
    assert summary["out"] == str(out)
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    saved = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    got = execute(nb, tmp_path, root)  # the run's own length: 3 steps
    assert [(g["d_loss"], g["g_loss"]) for g in got] == pytest.approx([(s["d_loss"], s["g_loss"]) for s in saved], rel=1e-5)


def test_cli_refusals(tmp_path):
    r = cli("notebook", tmp_path, "--out", tmp_path / "x.ipynb", cwd=tmp_path, check=False)
    assert r.returncode and "not a training run" in r.stderr and "Traceback" not in r.stderr
    r = cli("notebook", tmp_path, "--out", tmp_path / "x.txt", cwd=tmp_path, check=False)
    assert r.returncode and ".ipynb" in r.stderr


def test_models_without_a_notebook_loop_are_refused_with_a_code():
    others = [m for m in MODELS if not notebook.supports(m)]
    assert "face-exercise" in others and {"slides", "mlp", "cdcgan", "dcgan", "wgan", "wgan-gp"}.isdisjoint(others)
    for model in others:
        with pytest.raises(GanError) as e:
            notebook.build(TrainConfig.preset(model), 10)
        assert e.value.code == "notebook.unsupported"


def test_live_changes_are_listed_and_the_class_source_has_its_helpers():
    nb = notebook.build(TrainConfig.preset("wgan-gp"), 10, changes=[(4, "lr_g", 1e-4, 3e-4)], half_steps=2)
    intro = nb.cells[0].source
    assert "`lr_g` 0.0001 -> 0.0003 at step 4" in intro and "2 of the steps were half-steps" in intro
    assert "equalized" not in intro
    equalized = notebook.build(TrainConfig.preset("dcgan", equalized_lr="d"), 10).cells[0].source
    assert "ProGAN's equalized learning rate" in equalized and "one rate" in equalized
    source = notebook.code(nb)
    # the critic's norm helper comes along with the class that calls it, defined before it
    assert source.index("def _norm2d") < source.index("class DCGANDiscriminator28")
    assert inspect.getsource(models.GeneratorBase) in source


def test_page_download_is_the_sessions_run(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from gan_devkit.apptest_media import record_media
    from ui.train_session import TrainSession
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)
    media = record_media(monkeypatch)
    at = AppTest.from_file("../views/2_train.py", default_timeout=180)
    at.run()
    at.selectbox(key="train.w.model").set_value("mlp").run()
    at.number_input(key="train.w.batch_size").set_value(16).run()
    at.button(key="train.step").click().run()
    at.number_input(key="train.w.lr_g").set_value(3e-3).run()  # a live change: listed, not replayed
    sess = at.session_state["train.session"]
    nb = nbformat.reads(media.download("mnist-mlp.ipynb").decode(), as_version=4)
    nbformat.validate(nb)
    scope: dict = {}
    exec(next(c.source for c in nb.cells if c.source.startswith("# The run's settings")), scope)
    assert TrainConfig.from_dict(scope["CONFIG"]) == sess.start_cfg
    assert f'"GAN_NB_STEPS", {sess.trainer.iteration})' in notebook.code(nb)
    assert "`lr_g`" in nb.cells[0].source


def test_the_notebooks_networks_refuse_a_setting_in_the_apps_words():
    """The models' refusals are gan_core's coded errors; the notebook, which imports nothing of the project,
    defines its own, with the same English, and only where its networks raise one."""
    code = [c.source for c in notebook.build(TrainConfig.preset("cdcgan"), 10).cells if c.cell_type == "code"]
    scope = {}
    exec(next(c for c in code if c.startswith("import ")), scope)
    exec(next(c for c in code if "class DCGANGenerator28(" in c), scope)
    for cls, kwargs in (("DCGANGenerator28", {"class_norm": True}), ("DCGANGenerator28", {"hidden": 8, "hidden_layers": 9}),
                        ("DCGANDiscriminator28", {"norm": "spectral"}), ("DCGANDiscriminator28", {"img_size": 64})):
        with pytest.raises(ValueError) as theirs:
            scope[cls](width=4, **kwargs)
        with pytest.raises(ValueError) as ours:
            getattr(models, cls)(width=4, **kwargs)
        assert type(theirs.value).__name__ == "ModelConfigError" and str(theirs.value) == str(ours.value), kwargs
    assert "ModelConfigError" not in notebook.code(notebook.build(TrainConfig.preset("mlp"), 10))

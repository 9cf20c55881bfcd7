"""The training page's data picker through AppTest: each source, an upload with bad files, a short run on
each, the pending-reset rule, and a trained generator opened on the latent page."""
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from gan_devkit.archives import emoji_zip
from ui.train_session import TrainSession

PAGE = "../views/2_train.py"
HOSTILE = (("../../etc/evil.png", b"\x89PNG"), ("notes.txt", b"hello"), ("inner.zip", b"PK\x03\x04..."))


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(TrainSession, "score_every_s", 1e9)
    monkeypatch.setattr(TrainSession, "tick_seconds", 0.15)


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sess(at) -> TrainSession:
    return at.session_state["train.session"]


def pick(at, source, size=None, colour=None) -> None:
    at.radio(key="data.source").set_value(source).run()
    if size:
        at.radio(key="data.size").set_value(size)
    if colour:
        at.radio(key="data.colour").set_value(colour)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def small_run(at) -> None:
    """One Step at a tiny width/batch: the run builds from the picked data and trains."""
    at.number_input(key="train.w.batch_size").set_value(16)
    at.number_input(key="train.w.width").set_value(8)
    at.run()
    at.button(key="train.step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert sess(at).trainer is not None and sess(at).trainer.iteration >= 1 and not sess(at).error


@pytest.mark.parametrize("source,size,colour,shape", [
    ("fashion", 28, "grey", (1, 28, 28)), ("demo", 64, "rgb", (3, 64, 64)), ("demo", 32, "grey", (1, 32, 32))])
def test_each_bundled_source_offers_image_models_and_trains(source, size, colour, shape):
    at = open_page()
    assert sess(at).data_kind == "digits" and "cdcgan" in sess(at).models
    pick(at, source, size, colour)
    s = sess(at)
    assert s.data_name == source and s.data_kind == "images" and tuple(s.data.shape[1:]) == shape
    models = s.models
    assert "cdcgan" not in models and at.selectbox(key="train.w.model").value in models
    assert len(at.selectbox(key="train.w.model").options) == len(models), "the sidebar lists the same models"
    if size == 32:
        assert {"dcgan", "wgan-gp", "face-exercise"} <= set(models)
    captions = [c for img in at.image for c in (img.captions or [])]
    assert any(f"at {size}×{size}" in c and "as the networks see them" in c for c in captions), "the preview grid"
    small_run(at)
    assert not any("need a new run" in w.value for w in at.warning), "a fresh run has nothing pending"
    assert tuple(s.trainer.fixed_samples().shape[1:]) == shape
    assert s.real_grid_images().shape[1:3] == shape[1:], "real next to fake shows the picked data"
    assert any("MNIST digits" in c.value for c in at.caption), "no digit meter for pictures: the page says so"
    assert s.scores is None


def test_upload_zip_reads_skips_with_reasons_and_trains():
    at = open_page()
    pick(at, "upload")
    assert any("Upload a .zip" in i.value for i in at.info)
    at.file_uploader(key="data.upload").set_value(("mine.zip", emoji_zip(10, HOSTILE, folder="mine"), "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    s = sess(at)
    assert s.data_name.startswith("mine.zip") and s.data.shape == (10, 3, 32, 32)  # the default for pictures
    warning = " ".join(w.value for w in at.warning)
    assert "3 files were skipped" in warning
    for reason in ("unsafe name", "not an image file", "an archive inside the archive"):
        assert reason in warning, reason
    small_run(at)


def test_refused_upload_shows_the_reason_and_keeps_the_old_data():
    at = open_page()
    pick(at, "upload")
    at.file_uploader(key="data.upload").set_value(("x.zip", b"not a zip at all", "application/zip")).run()
    assert not at.exception
    assert any("is not a zip archive" in e.value for e in at.error)
    assert sess(at).data_name == "mnist", "a refused upload changes nothing"


def test_data_change_during_a_run_waits_for_reset():
    at = open_page()
    pick(at, "demo", 64, "rgb")
    small_run(at)
    n = sess(at).trainer.iteration
    pick(at, "fashion", 28, "grey")
    s = sess(at)
    assert s.data_name == "demo" and s.trainer.iteration == n, "the running trainer keeps its data"
    assert any("next Reset" in w.value for w in at.warning)
    pick(at, "demo", 64, "rgb")  # back to the run's own data: nothing waits for Reset
    assert sess(at).next_data is None and not any("next Reset" in w.value for w in at.warning)
    pick(at, "fashion", 28, "grey")
    at.button(key="train.reset").click().run()
    assert sess(at).data_name == "fashion" and tuple(sess(at).data.shape[1:]) == (1, 28, 28)


def test_server_folder_only_when_local(monkeypatch, tmp_path):
    at = open_page()
    assert "A folder on this computer" in at.radio(key="data.source").options
    for i in range(3):
        Image.new("RGB", (40, 30), (i * 80, 0, 0)).save(tmp_path / f"{i}.png")
    pick(at, "folder", 28, "rgb")
    at.text_input(key="data.folder").input(str(tmp_path)).run()
    assert not at.exception and sess(at).data.shape == (3, 3, 28, 28)
    monkeypatch.setenv("GAN_PUBLIC", "1")
    pub = open_page()
    assert "A folder on this computer" not in pub.radio(key="data.source").options
    monkeypatch.delenv("GAN_PUBLIC")
    monkeypatch.setenv("GAN_SERVER_FOLDERS", "0")
    assert "A folder on this computer" not in open_page().radio(key="data.source").options


def test_trained_generator_opens_on_the_latent_page():
    at = open_page()
    pick(at, "demo", 28, "rgb")
    small_run(at)
    notebook = [d for d in at.get("download_button") if d.proto.id.endswith("train.download_nb")]
    assert len(notebook) == 1 and notebook[0].proto.disabled  # the notebook reproduces MNIST runs only
    at.button(key="train.open_latent").click().run()
    own = at.session_state["latent.own"]
    assert own["model"] == sess(at).trainer.cfg.model and own["step"] == sess(at).trainer.iteration
    from pathlib import Path
    folder = Path(own["path"])
    assert (folder / "model.safetensors").exists() and (folder / "config.json").exists()
    assert folder.parent == at.session_state["session.folder"].path
    # the latent page, in the same session, draws from that generator
    lat = AppTest.from_file("../views/3_latent.py", default_timeout=240)
    lat.session_state["latent.own"] = own
    lat.run()
    assert not lat.exception, [e.value for e in lat.exception]
    assert lat.radio(key="latent.source").value == "own"
    captions = " ".join(c.value for c in lat.caption)
    assert "step" in captions and str(folder) not in captions and "/tmp" not in captions  # no server path
    assert len(lat.image) >= 16, "the seed grid of the session's own generator"


def test_session_folder_is_removed_with_its_session():
    import gc

    from ui.train_data import SessionFolder
    f = SessionFolder()
    path = f.path
    (path / "x").write_text("1")
    del f
    gc.collect()
    assert not path.exists()

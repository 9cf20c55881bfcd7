"""The training page's data picker: MNIST, Fashion-MNIST, the emoji demo set, your own images, a server folder.

Bundled datasets are read once per server at each size and colour (st.cache_resource, shared
read-only like MNIST). Uploads are read per session, in memory, by gan_core.uploads under one set of
caps; the session keeps only the small uint8 result, never the archive. The picked data reaches the
session through TrainSession.set_data: at once when no run exists, else from the next Reset.
"""
import os
import shutil
import tempfile
import weakref
from collections import Counter
from pathlib import Path

import streamlit as st

from gan_core import registry
from gan_core.data import IMAGE_EXTS, to_model_range
from gan_core.datasets import DATASETS
from gan_core.grid import make_grid
from gan_core.messages import ENGLISH, GanError, Message
from gan_core.pipelines import TrainingData, load_training_data
from gan_core.uploads import MiB, UploadLimits, read_uploads

from .i18n import msg, t
from .runtime import public_mode
from .train_resources import mnist_train, mnist_train_labels
from .train_session import TrainSession

SOURCE_KEY, SIZE_KEY, COLOUR_KEY, UPLOAD_KEY, FOLDER_KEY = "data.source", "data.size", "data.colour", "data.upload", "data.folder"
READ_KEY = "data.read"  # (what was asked, ReadImages or Message): one upload read per change, not per rerun
PREVIEW_N = 32
# A public server holds many sessions: smaller caps per upload there (Streamlit's own upload cap is 200 MB).
PUBLIC_LIMITS = UploadLimits(archive_bytes=100 * MiB, total_bytes=400 * MiB, members=6000, images=5000,
                             tensor_bytes=200 * MiB)


def server_folders() -> bool:
    """A folder path on the server may be typed only when the app runs locally: never in public mode,
    and GAN_SERVER_FOLDERS=0 turns it off on any server."""
    off = os.environ.get("GAN_SERVER_FOLDERS", "1").strip().lower() in ("0", "false", "no")
    return not public_mode() and not off


def limits() -> UploadLimits:
    return PUBLIC_LIMITS if public_mode() else UploadLimits()


def image_sizes() -> list[int]:
    """Every size an image model of the training page takes (28, 32, 64)."""
    return sorted({s for m in registry.offered("train", data="images") for s in registry.get(m).sizes})


class SessionFolder:
    """A temporary folder that lives as long as this object: kept in st.session_state, it is removed
    when Streamlit drops the session (the object is collected) or when the server exits."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="gan-session-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def remove(self) -> None:
        self._cleanup()


def session_folder() -> Path:
    if "session.folder" not in st.session_state:
        st.session_state["session.folder"] = SessionFolder()
    return st.session_state["session.folder"].path


@st.cache_resource(show_spinner=False, max_entries=12)
def bundled(name: str, size: int | None = None, channels: int | None = None) -> TrainingData:
    """A bundled dataset at a size and colour, once per server (MNIST: the page's own shared tensor)."""
    if name == "mnist":
        return TrainingData(mnist_train(), mnist_train_labels(), name="mnist", kind="digits")
    return load_training_data(name, size, channels)


def data_panel(sess: TrainSession) -> None:
    """The picker (in an expander above the run), a preview grid with counts, and set_data on the session."""
    sources = [*DATASETS, "upload"] + (["folder"] if server_folders() else [])
    st.session_state.setdefault(SOURCE_KEY, sess.data_name if sess.data_name in DATASETS else "mnist")
    with st.expander(t("data.title", name=_shown_name(sess)), expanded=sess.trainer is None):
        names = {s: t(f"data.source.{s}") for s in sources}  # translated now: AppTest re-formats later
        source = st.radio(t("data.source"), sources, format_func=names.get, horizontal=True, key=SOURCE_KEY)
        if source != "mnist":
            c1, c2 = st.columns(2)
            sizes = image_sizes()
            st.session_state.setdefault(SIZE_KEY, 32)  # pictures train ~4x faster than at 64 px on 2 cores
            size = c1.radio(t("data.size"), sizes, horizontal=True, key=SIZE_KEY, format_func=lambda s: f"{s}×{s}",
                            help=t("data.size_help"))
            colours = {c: t(f"data.colour.{c}") for c in ("rgb", "grey")}
            colour = c2.radio(t("data.colour"), list(colours), horizontal=True, key=COLOUR_KEY,
                              format_func=colours.get, help=t("data.crop_help"))
            channels = 3 if colour == "rgb" else 1
        data = _pick(source, *((size, channels) if source != "mnist" else (None, None)))
        if data is None:
            return
        _preview(data)
        if data.images is sess.data:
            sess.next_data = None  # back to what the run trains on: nothing waits for Reset any more
        elif not sess.set_data(data):
            st.warning(t("data.pending_reset"))  # a run exists: the new data waits for Reset
        if sess.data_kind != "digits" or (sess.next_data is not None and sess.next_data.kind != "digits"):
            st.caption(t("data.models_note", models=", ".join(t(registry.get(m).locale_key) for m in sess.models)))


def _shown_name(sess: TrainSession) -> str:
    return t(f"data.source.{sess.data_name}") if sess.data_name in DATASETS else sess.data_name


def _pick(source: str, size: int | None, channels: int | None) -> TrainingData | None:
    if source in DATASETS:
        st.session_state.pop(READ_KEY, None)  # an upload's images stay only while the run (or picker) uses them
        with st.spinner(t("data.loading")):
            return bundled(source, size, channels)
    if source == "upload":
        types = sorted({e.lstrip(".") for e in IMAGE_EXTS} | {"zip"})
        files = st.file_uploader(t("data.upload"), type=types, accept_multiple_files=True, key=UPLOAD_KEY,
                                 help=t("data.upload_help", mb=limits().archive_bytes // MiB, n=f"{limits().images:,}"))
        if not files:
            st.info(t("data.upload_hint"))
            return None
        asked = (tuple((f.file_id, f.size) for f in files), size, channels)
        return _read_once(asked, lambda: read_uploads(((f.name, f.getvalue()) for f in files), size, channels, limits()),
                          " + ".join(f.name for f in files)[:80])
    path = st.text_input(t("data.folder"), key=FOLDER_KEY, help=t("data.folder_help"))
    if not path.strip():
        return None
    return _read_once((path.strip(), size, channels), lambda: load_training_data(path.strip(), size, channels), path)


def _read_once(asked: tuple, read, name: str) -> TrainingData | None:
    """Read an upload or folder once per change (not per rerun); a refusal is shown, never raised."""
    held = st.session_state.get(READ_KEY)
    if held is None or held[0] != asked:
        with st.spinner(t("data.reading")):
            try:
                found = read()
                if not isinstance(found, TrainingData):  # an upload's ReadImages
                    found = TrainingData(to_model_range(found.images), None, name=name, kind="images",
                                         skipped=found.skipped, notes=[Message(c, {"n": n}) for c, n in found.notes.items()])
            except GanError as e:
                found = e.message
        held = (asked, found)
        st.session_state[READ_KEY] = held
    if isinstance(held[1], Message):
        st.error(t("data.refused", reason=msg(held[1])))
        return None
    return held[1]


def _preview(data: TrainingData) -> None:
    """The first images as the models will see them, with what was read, skipped (and why) and fixed."""
    from gan_core.data import to_uint8
    size, channels = data.shape
    st.image(make_grid(to_uint8(data.images[:PREVIEW_N]), nrow=16), width="stretch", clamp=True,
             caption=t("data.preview", n=f"{len(data.images):,}", size=size,
                       colour=t("data.colour.rgb" if channels == 3 else "data.colour.grey")))
    if data.skipped:
        first = {}
        for name, m in data.skipped:
            first.setdefault(m.code, (name, m))
        counts = Counter(m.code for _, m in data.skipped)
        lines = [t("data.skip_line", n=counts[code], reason=msg(m), example=name) for code, (name, m) in first.items()]
        st.warning(t("data.skipped", n=f"{len(data.skipped):,}") + "\n\n" + "\n".join(f"- {line}" for line in lines))
    # what load_image fixed, by kind (those whose sentence needs no per-file numbers: rotated, CMYK, alpha...)
    fixed = [n for n in data.notes if n.code.startswith("image.note.") and "{" not in ENGLISH.get(n.code, "{")]
    if fixed:
        st.caption(t("data.fixed") + " " + "; ".join(f"{msg(Message(n.code))} ×{n.params['n']}" for n in fixed))


def open_on_latent(sess: TrainSession) -> None:
    """A button: the generator as it is now goes to this session's folder (an HF folder, removed with the
    session) and the latent page opens on it. Later training does not change what the latent page shows."""
    from gan_core.pipelines import save_generator

    from .latent_widgets import OWN_KEY
    tr = sess.trainer
    if not st.button(t("train.open_latent"), key="train.open_latent", disabled=tr is None or bool(sess.error),
                     help=t("train.open_latent_help", step=f"{tr.iteration:,}" if tr else 0)):
        return
    folder = session_folder() / f"latent-{tr.cfg.model}-{tr.iteration}"
    save_generator(tr, sess.start_cfg, sess.scores, sess.data_name, folder)
    st.session_state[OWN_KEY] = {"path": str(folder), "model": tr.cfg.model, "step": tr.iteration,
                                 "data": _shown_name(sess)}
    st.session_state["latent.source"] = "own"
    st.switch_page("views/3_latent.py")

"""A public Space no visitor can break or read from: model sources are Hub repo ids only, a config
that asks for gigabytes is refused before any allocation, weights over the cap are refused before
they are read, messages name what the user typed (never a server path), and no input at all ends
in a traceback (hypothesis, over run configs and model folders)."""
import json
import resource
import string

import pytest
from huggingface_hub import constants
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from gan_core import hub
from gan_core.config import BOUNDS, TYPES, ConfigError, TrainConfig
from gan_core.models import ARCHITECTURES, DCGANGenerator64, MLPGenerator
from gan_core.pipelines import load_generator


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def folder_with_config(tmp_path, config: dict, weights: bytes | None = None):
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    if weights is not None:
        (folder / "model.safetensors").write_bytes(weights)
    return folder


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_config_asking_for_gigabytes_is_refused_before_any_allocation(tmp_path):
    """{"width": 20000} would be an ~800 GB DCGAN: refused on the meta device, in no time, no memory."""
    before = peak_rss_mb()
    for width in (20_000, 3_000):
        folder = folder_with_config(tmp_path, {"architecture": "DCGANGenerator64", "width": width})
        with pytest.raises(hub.ModelLoadError) as err:
            hub.load_model(folder)
        assert err.value.code == "hub.too_many_params" and err.value.params["params"] > hub.MAX_PARAMS
    assert peak_rss_mb() - before < 200  # a real build of width 3000 alone takes ~18 GB
    # a normal model still loads
    folder = hub.save_model(DCGANGenerator64(width=8), tmp_path / "ok")
    assert hub.load_model(folder).img_size == 64


def test_weights_over_the_cap_are_refused_before_they_are_read(tmp_path):
    folder = folder_with_config(tmp_path, {"architecture": "MLPGenerator", "hidden": 8})
    with open(folder / "model.safetensors", "wb") as f:  # a sparse file: big on paper, nothing on disk
        f.truncate(hub.MAX_WEIGHT_BYTES + 1)
    with pytest.raises(hub.ModelLoadError) as err:
        hub.load_model(folder)
    assert err.value.code == "hub.too_large"


def test_public_sources_are_hub_ids_only_and_never_read_the_server(tmp_path, offline):
    with pytest.raises(hub.ModelLoadError) as err:
        load_generator("/etc", local=False)
    assert err.value.code == "hub.bad_repo_id" and "config.json" not in str(err.value)
    # a real folder on the server, typed as if it were a repo id: looked up on the Hub, not on disk
    with pytest.raises(hub.ModelLoadError) as err:
        load_generator("checkpoints/face-dcgan", local=False)
    assert err.value.code == "hub.offline"
    assert load_generator("checkpoints/face-dcgan").img_size == 64  # the CLI (local use) still reads folders


def test_messages_name_the_source_not_the_servers_cache(tmp_path, offline):
    """A refusal of a cached Hub repo says `owner/name`, never the cache folder on the server."""
    from gan_devkit.hub_cache import populate_cache
    folder = hub.save_model(MLPGenerator(hidden=8), tmp_path / "src")
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    populate_cache(tmp_path / "hub", "someone/broken", folder)
    with pytest.raises(hub.ModelLoadError) as err:
        hub.load_model("someone/broken")
    assert err.value.code == "hub.corrupt_weights"
    assert "someone/broken" in str(err.value) and str(tmp_path) not in str(err.value) and "models--" not in str(err.value)


@pytest.mark.parametrize("typed, code", [("/etc", "hub.bad_repo_id"), ("checkpoints/face-wgan-gp", "hub.offline")])
def test_the_public_latent_page_never_reads_a_typed_path(root, offline, monkeypatch, typed, code):
    from gan_core.messages import ENGLISH
    monkeypatch.chdir(root)
    monkeypatch.setenv("GAN_PUBLIC", "1")
    monkeypatch.delenv("GAN_FACE_DCGAN_REPO", raising=False)
    monkeypatch.delenv("GAN_FACE_WGAN_REPO", raising=False)
    at = AppTest.from_file(str(root / "views" / "3_latent.py"), default_timeout=120).run()
    at.text_input(key="latent.src.wgan-gp").input(typed).run()
    assert not at.exception
    shown = " ".join(w.value for w in at.warning)
    assert ENGLISH[code].split("{source!r}")[-1].split("(")[0].strip(" :`")[:20] in shown, shown
    assert "has no config.json" not in shown and "Hugging Face Hub only" in " ".join(c.value for c in at.caption)


# ---------------------------------------------------------------- never a traceback, never over the caps

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12)
                           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(TYPES)) | st.text(string.ascii_lowercase, max_size=8), JSON_VALUES,
                       max_size=6))
def test_any_run_config_is_a_valid_config_or_a_clear_refusal(d):
    try:
        cfg = TrainConfig.from_json(json.dumps(d))
    except ConfigError as e:
        assert e.code.startswith("config.") and str(e)
        return
    for name, (low, high) in BOUNDS.items():
        assert low <= getattr(cfg, name) <= high


ARCH_ARGS = st.dictionaries(st.sampled_from(["z_dim", "width", "hidden", "channels", "img_size", "dropout",
                                             "num_classes", "norm", "junk"]),
                            st.integers(-5, 100_000) | st.floats(-1, 2) | st.just(float("nan")) | st.sampled_from(
                                ["batch", "none", "layer", "?"]), max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=st.sampled_from(sorted(ARCHITECTURES) + ["Nope"]), args=ARCH_ARGS)
@example(arch="DCGANDiscriminator28", args={"norm": float("nan")})  # found by CI: a KeyError, not a refusal
@example(arch="DCGANDiscriminator64", args={"norm": "?"})
def test_any_model_folder_loads_or_is_refused_in_words(tmp_path, arch, args):
    """Whatever config.json says, load_model builds a model within the caps or raises ModelLoadError."""
    folder = folder_with_config(tmp_path, {"architecture": arch, **args},
                                weights=b"\0" * 64)  # never real weights: the refusal must come first or say "corrupt"
    try:
        model = hub.load_model(folder)
    except hub.ModelLoadError as e:
        assert e.code.startswith("hub.") and str(e)
        return
    assert sum(p.numel() for p in model.parameters()) <= hub.MAX_PARAMS  # pragma: no cover (weights are junk)

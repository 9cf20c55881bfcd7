"""hub.py's loading and every refusal, each with its code and the number at its limit (a limit exactly
reached is allowed). Local folders are real; the Hub's online answers (a gated or missing repo, a file
list with sizes, a download) come over HTTP from a local server (gan_devkit/fake_hub.py), read by
huggingface_hub's own code: nothing of huggingface_hub is mocked."""
import json
import shutil
import warnings

import pytest
import torch
from huggingface_hub import constants
from huggingface_hub import errors as hf_errors

from gan_core import hub
from gan_core.hub import ModelLoadError, load_model, read_config, read_weights, resolve, save_model
from gan_core.messages import Message
from gan_core.metrics import DigitClassifier
from gan_core.models import DCGANGenerator28, DCGANGenerator64
from gan_devkit.fake_hub import COMMIT, GATED, SERVER_ERROR, FakeHub, point_hub_at
from gan_devkit.hub_cache import go_offline, populate_cache
from gan_devkit.model_folder import with_config


@pytest.fixture
def tiny(tmp_path):
    return save_model(DCGANGenerator64(width=4), tmp_path / "tiny")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    cache.mkdir()
    go_offline(monkeypatch, cache)
    return cache


def _code(fn, *args, **kw) -> ModelLoadError:
    with pytest.raises(ModelLoadError) as err:
        fn(*args, **kw)
    return err.value


# ------------------------------------------------------------------ resolve
def test_resolve_local_folder_file_and_home(tiny, tmp_path, monkeypatch):
    assert resolve(tiny) == tiny
    e = _code(resolve, tiny / "config.json")
    assert e.code == "hub.is_file" and e.params == {"source": str(tiny / "config.json")}
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve("~/tiny") == tiny


def test_resolve_on_a_public_server_never_reads_local_folders(tiny, offline, monkeypatch):
    """local=False: a path is not a repo id; a repo-id-shaped path is fetched from the Hub, not read from disk."""
    e = _code(resolve, str(tiny), local=False)
    assert e.code == "hub.bad_repo_id" and e.params == {"source": str(tiny)}
    monkeypatch.chdir(tiny.parent.parent)
    shaped = f"{tiny.parent.name}/tiny"  # exists on disk relative to cwd, and is a valid repo id
    assert resolve(shaped).resolve() == tiny
    e = _code(resolve, shaped, local=False)
    assert e.code == "hub.offline" and e.params == {"source": shaped}
    populate_cache(offline, "someone/tiny", tiny)
    assert (resolve("someone/tiny", local=False) / "config.json").exists()


# ------------------------------------------------------------------ the Hub online: a real HTTP server
@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """huggingface_hub online, with an empty cache, talking HTTP to a local Hub (gan_devkit/fake_hub.py)."""
    with FakeHub() as server:
        point_hub_at(monkeypatch, server.url, tmp_path / "hf-cache")
        yield server


def _asked_sizes(repo_id, revision=None):
    """The request _check_remote_size makes: the repo's info at that revision, with file sizes (blobs)."""
    return ("GET", f"/api/models/{repo_id}" + (f"/revision/{revision}" if revision else ""), {"blobs": "true"})


@pytest.mark.parametrize("repo,revision,code,raised", [
    ("nobody/missing", None, "hub.repo_not_found", hf_errors.RepositoryNotFoundError),  # 404 RepoNotFound
    ("someone/tiny", "v2", "hub.revision_not_found", hf_errors.RevisionNotFoundError),  # 404 RevisionNotFound
    ("someone/gated-401", None, "hub.gated", hf_errors.GatedRepoError),  # anonymous visitor
    ("someone/gated-403", None, "hub.gated", hf_errors.GatedRepoError),  # logged in, not admitted
    ("someone/broken", "v1", "hub.fetch_failed", hf_errors.HfHubHTTPError),  # 500
])
def test_hub_errors_become_coded_messages(fake_hub, tiny, repo, revision, code, raised):
    """The Hub's status and X-Error-Code, turned by huggingface_hub into its own error, then into our code;
    the error comes from the size check, before snapshot_download starts or any file is asked for."""
    fake_hub.add("someone/tiny", tiny, revisions=("v1",))
    fake_hub.add("someone/gated-401", tiny, error=GATED)
    fake_hub.add("someone/gated-403", tiny, error=(403, "GatedRepo"))
    fake_hub.add("someone/broken", tiny, revisions=("v1",), error=SERVER_ERROR, error_message="x" * 400)
    e = _code(resolve, repo, revision=revision)
    assert e.code == code and type(e.__cause__) is raised and e.params["source"] == repo
    assert fake_hub.repo_requests() == [_asked_sizes(repo, revision)]
    if code == "hub.revision_not_found":
        assert e.params["revision"] == "v2"
    if code == "hub.fetch_failed":  # the Hub's own words, cut at 300 characters
        assert e.params["detail"] == f"HfHubHTTPError: {e.__cause__}"[:300] and len(e.params["detail"]) == 300
        assert "500 Internal Server Error" in e.params["detail"]


def test_an_invalid_repo_id_is_refused_before_asking(fake_hub):
    e = _code(resolve, "a/b/c")  # no such folder, and too many slashes for a repo id
    assert e.code == "hub.bad_repo_id" and e.params == {"source": "a/b/c"}
    assert fake_hub.requests == []


def test_an_unreachable_or_silent_hub_is_offline(tiny, tmp_path, monkeypatch):
    """No network: a refused connection, or a server that stops answering (past huggingface_hub's etag
    timeout), is "offline", not a fetch failure with httpx's words."""
    with FakeHub() as gone:
        point_hub_at(monkeypatch, gone.url, tmp_path / "hf-cache")
    e = _code(resolve, "someone/tiny")
    assert e.code == "hub.offline" and e.params == {"source": "someone/tiny"}
    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 1.0)  # (the size check waits that long)
    with FakeHub() as quiet:
        point_hub_at(monkeypatch, quiet.url, tmp_path / "hf-cache")
        quiet.add("someone/tiny", tiny, delay=4)
        e = _code(resolve, "someone/tiny")
        assert e.code == "hub.offline" and quiet.repo_requests() == [_asked_sizes("someone/tiny")]


def test_the_hub_download_returns_the_snapshot_folder(fake_hub, tiny, tmp_path):
    """A real download: the revision asked, safetensors, config and card fetched, a pickle beside them never."""
    card = "# tiny\n"
    fake_hub.add("someone/tiny", tiny, revisions=("v1",), files={"README.md": card.encode(), "pytorch_model.bin": b"x"})
    folder = resolve("someone/tiny", revision="v1")
    assert folder == tmp_path / "hf-cache" / "models--someone--tiny" / "snapshots" / COMMIT
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    for name in ("config.json", "model.safetensors"):
        assert (folder / name).read_bytes() == (tiny / name).read_bytes()
    assert (folder / "README.md").read_text() == card
    assert fake_hub.repo_requests()[:2] == [_asked_sizes("someone/tiny", "v1"),
                                            ("GET", "/api/models/someone/tiny/revision/v1", {})]
    assert ("GET", "pytorch_model.bin") not in fake_hub.file_requests()
    m = load_model("someone/tiny", revision="v1")
    assert type(m) is DCGANGenerator64 and m.source == "someone/tiny"
    expected = load_model(tiny).state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in m.state_dict().items())


def test_remote_weights_over_the_limit_are_refused_before_download(fake_hub):
    """Sizes from the Hub's file list only (the server holds no bytes for them): refused before any file is asked."""
    limit = hub.MAX_WEIGHT_BYTES
    listed = {"model-1.safetensors": limit // 2, "model-2.safetensors": limit // 2 + 2**20,
              "pytorch_model.bin": 10 * limit, "README.md": None}
    fake_hub.add("a/b", listed=listed, revisions=("v1",))
    fake_hub.add("c/d", listed=listed, revisions=("v3",))
    e = _code(hub._check_remote_size, "a/b", "v1")
    assert e.code == "hub.too_large" and e.params == {"folder": "a/b", "mb": 401, "limit_mb": 400}
    assert str(e) == "the weights of a/b take 401 MB; the limit here is 400 MB"
    e = _code(resolve, "c/d", revision="v3")  # through the download path: our refusal, not "fetch failed"
    assert e.code == "hub.too_large" and e.params["folder"] == "c/d"
    assert fake_hub.repo_requests() == [_asked_sizes("a/b", "v1"), _asked_sizes("c/d", "v3")]  # no file, no tree


def test_remote_weights_at_the_limit_or_unsized_pass(fake_hub):
    fake_hub.add("a/b", listed={"model.safetensors": hub.MAX_WEIGHT_BYTES, "big.bin": 10**12, "x.safetensors": None})
    assert hub._check_remote_size("a/b", None) is None
    fake_hub.add("e/mpty")
    assert hub._check_remote_size("e/mpty", None) is None
    assert fake_hub.repo_requests() == [_asked_sizes("a/b"), _asked_sizes("e/mpty")]


def test_offline_the_remote_size_is_not_asked(fake_hub, tiny, monkeypatch):
    """HF_HUB_OFFLINE: nothing is asked of the Hub, not even the sizes; an uncached repo is "offline"."""
    fake_hub.add("someone/tiny", tiny)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert hub._check_remote_size("someone/tiny", None) is None
    e = _code(resolve, "someone/tiny")
    assert e.code == "hub.offline" and e.params == {"source": "someone/tiny"}
    assert fake_hub.requests == []


# ------------------------------------------------------------------ config.json
def test_read_config_refusals(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    e = _code(read_config, folder, "shown/name")
    assert e.code == "hub.no_config" and e.params == {"folder": "shown/name"}
    assert _code(read_config, folder).params == {"folder": str(folder)}  # no shown: the folder itself
    cfg = folder / "config.json"
    cfg.write_text("{not json")
    e = _code(read_config, folder)
    assert e.code == "hub.bad_config_json" and "Expecting property name" in e.params["detail"]
    cfg.write_text("[1, 2]")
    assert _code(read_config, folder).params["detail"] == "a list, not an object"
    cfg.write_bytes(b'{"a": "\xff"}')
    assert _code(read_config, folder).code == "hub.bad_config_json"  # not UTF-8
    cfg.write_text("[" * 100_000 + "]" * 100_000)
    assert _code(read_config, folder).code == "hub.bad_config_json"  # too large before it is parsed


def test_read_config_size_limit_is_inclusive(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    pad = hub.MAX_CONFIG_BYTES - len('{"a": ""}')
    (folder / "config.json").write_text('{"a": "' + " " * pad + '"}')
    assert read_config(folder) == {"a": " " * pad}  # exactly 64 KB: read
    (folder / "config.json").write_text('{"a": "' + " " * (pad + 1) + '"}')
    e = _code(read_config, folder, "x")
    assert e.code == "hub.bad_config_json" and e.params == {"folder": "x", "detail": "larger than 64 KB"}


# ------------------------------------------------------------------ weights
def test_read_weights_size_limit(tiny, monkeypatch):
    size = (tiny / "model.safetensors").stat().st_size
    monkeypatch.setattr(hub, "MAX_WEIGHT_BYTES", size)
    assert set(read_weights(tiny)) == set(DCGANGenerator64(width=4).state_dict())  # exactly at the limit
    monkeypatch.setattr(hub, "MAX_WEIGHT_BYTES", size - 1)
    e = _code(read_weights, tiny, "shown")
    assert e.code == "hub.too_large" and e.params == {"folder": "shown", "mb": round(size / 2**20), "limit_mb": 0}


def test_read_weights_counts_every_shard_against_the_limit(tmp_path, monkeypatch):
    folder = save_model(DCGANGenerator64(width=8), tmp_path / "m", max_shard_bytes=20_000)
    total = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    monkeypatch.setattr(hub, "MAX_WEIGHT_BYTES", total - 1)
    assert _code(read_weights, folder).code == "hub.too_large"


def test_corrupt_and_missing_weights(tiny, tmp_path):
    from safetensors.torch import load_file
    (tiny / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(Exception) as lib:
        load_file(tiny / "model.safetensors")
    e = _code(read_weights, tiny, "shown")
    assert e.code == "hub.corrupt_weights" and e.params == {"folder": "shown", "detail": str(lib.value)[:200]}
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no weights")
    e = _code(read_weights, empty)
    assert e.code == "hub.no_weights" and e.params == {"folder": str(empty)}
    sharded = save_model(DCGANGenerator64(width=8), tmp_path / "s", max_shard_bytes=20_000)
    index = json.loads((sharded / "model.safetensors.index.json").read_text())
    del index["weight_map"]
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
    assert _code(read_weights, sharded).code == "hub.corrupt_weights"  # an index without its weight map


@pytest.mark.parametrize("name", ["weights.pt", "model.pth", "m.pkl", "last.ckpt"])
def test_every_pickle_suffix_is_refused(tmp_path, name):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / name).write_bytes(b"not read")
    e = _code(read_weights, folder, "shown")
    assert e.code == "hub.pickle_only" and e.params == {"folder": "shown", "files": name}


def test_safetensors_win_over_pickles_next_to_them(tiny):
    (tiny / "pytorch_model.bin").write_bytes(b"never unpickled")
    assert set(read_weights(tiny)) == set(DCGANGenerator64(width=4).state_dict())


# ------------------------------------------------------------------ load_model
def test_load_model_builds_the_named_class_in_eval_mode(tiny):
    m = load_model(tiny)
    assert type(m) is DCGANGenerator64 and not m.training and m.source == str(tiny)
    assert next(m.parameters()).device.type == "cpu"
    assert load_model(tiny, device="meta").parameters().__next__().device.type == "meta"
    assert load_model(tiny, expect=torch.nn.Module).source == str(tiny)


def test_load_model_refusals(tiny, tmp_path, monkeypatch):
    e = _code(load_model, tiny, expect=DigitClassifier)
    assert e.code == "hub.wrong_kind" and e.params == {"source": str(tiny), "architecture": "DCGANGenerator64",
                                                        "expected": "DigitClassifier"}
    odd = with_config(shutil.copytree(tiny, tmp_path / "odd"), architecture="os.system")
    e = _code(load_model, odd)
    assert e.code == "hub.unknown_architecture" and e.params["architecture"] == "os.system"
    assert "DCGANGenerator64" in e.params["known"].split(", ") and e.params["folder"] == str(odd)
    (odd / "config.json").write_text(json.dumps({"width": 4}))
    assert _code(load_model, odd).params["architecture"] == "None"  # no architecture key at all
    bad = with_config(shutil.copytree(tiny, tmp_path / "bad"), colour="blue", hue=2)
    e = _code(load_model, bad)
    assert e.code == "hub.config_unknown_keys" and e.params == {"folder": str(bad), "architecture": "DCGANGenerator64",
                                                                 "keys": "colour, hue"}
    negative = with_config(shutil.copytree(tiny, tmp_path / "negative"), width=-3)
    e = _code(load_model, negative)  # torch's own words, quoted: no code of ours names a negative size
    assert e.code == "hub.config_mismatch" and e.params["architecture"] == "DCGANGenerator64"
    assert "negative dimension" in e.params["detail"] and e.params["folder"] == str(negative)
    with torch.device("meta"), pytest.raises(TypeError) as torch_words:
        DCGANGenerator64(width=2**62)  # torch cannot unpack the size: its words, then its C++ stack
    assert "Exception raised from" in str(torch_words.value)
    e = _code(load_model, with_config(shutil.copytree(tiny, tmp_path / "huge"), width=2**62))
    assert e.params["detail"] == str(torch_words.value).splitlines()[0] and "Overflow" in e.params["detail"]
    params = sum(p.numel() for p in DCGANGenerator64(width=4).parameters())
    monkeypatch.setattr(hub, "MAX_PARAMS", params)
    assert load_model(tiny).source == str(tiny)  # exactly at the limit
    monkeypatch.setattr(hub, "MAX_PARAMS", params - 1)
    e = _code(load_model, tiny)
    assert e.code == "hub.too_many_params" and e.params == {"folder": str(tiny), "architecture": "DCGANGenerator64",
                                                             "params": params, "limit": params - 1}


def test_a_generator_with_stacked_dense_layers_round_trips_and_a_config_asking_a_million_is_refused(tmp_path):
    """hidden_layers is saved in config.json and rebuilt from it; a hostile count is refused before any
    layer is built (a million modules, even on the meta device, would hold the server for minutes)."""
    g = DCGANGenerator28(z_dim=8, width=4, hidden=16, hidden_layers=2).eval()
    folder = save_model(g, tmp_path / "g2")
    back = load_model(folder)
    z = torch.randn(3, 8)
    assert back._hub_mixin_config["hidden_layers"] == 2 and torch.equal(back(z), g(z))
    for count in (10**6, 0, "2"):
        e = _code(load_model, with_config(folder, hidden_layers=count))
        assert e.code == "hub.config_refused" and e.params["architecture"] == "DCGANGenerator28"
        assert e.params["reason"] == Message("model.hidden_layers", {"most": 4, "value": str(count)})


def test_a_class_that_takes_any_keyword_gets_the_configs_extra_keys(tmp_path, monkeypatch):
    """Settings a class does not name are refused before it is built, unless it takes **kwargs (a registered
    student model may): then they are its to read."""
    class Loose(DCGANGenerator64):
        def __init__(self, width: int = 4, **extra):
            super().__init__(width=width)
            self.extra = extra

    monkeypatch.setitem(hub.ARCHITECTURES, "Loose", Loose)
    folder = save_model(Loose(), tmp_path / "loose")
    with_config(folder, architecture="Loose", colour="blue")
    assert load_model(folder).extra == {"colour": "blue"}


def test_a_librarys_words_are_cut_to_their_first_line_and_200_characters(tmp_path, monkeypatch):
    class Wordy(DCGANGenerator64):
        def __init__(self, width: int = 4, words: str = ""):
            if words:
                raise ValueError(words)
            super().__init__(width=width)

    monkeypatch.setitem(hub.ARCHITECTURES, "Wordy", Wordy)
    folder = with_config(save_model(Wordy(), tmp_path / "wordy"), architecture="Wordy")
    for words, detail in (("x" * 300 + "\nsecond line", "x" * 200), ("\nsecond line", "")):
        e = _code(load_model, with_config(folder, words=words))
        assert e.code == "hub.config_mismatch" and e.params["detail"] == detail


def test_too_many_params_is_refused_without_allocating(tiny, monkeypatch):
    """A config asking for a huge network is counted on the meta device and refused: no memory is used."""
    huge = with_config(tiny, width=4096)  # ~ 1.4 G parameters, 5.6 GB in fp32
    e = _code(load_model, huge)
    assert e.code == "hub.too_many_params" and e.params["params"] > hub.MAX_PARAMS


def test_weights_mismatch_names_the_config(tiny):
    with_config(tiny, width=8)
    e = _code(load_model, tiny)
    assert e.code == "hub.weights_mismatch" and e.params["architecture"].startswith("DCGANGenerator64((")
    assert "('width', 8)" in e.params["architecture"] and "size mismatch" in e.params["detail"]


def test_public_server_loading_keeps_the_revision_and_refuses_paths(tiny, offline):
    populate_cache(offline, "someone/tiny", tiny, refs=("v1",))  # only a "v1" ref, no "main"
    assert (resolve("someone/tiny", revision="v1", local=False) / "config.json").exists()
    assert load_model("someone/tiny", revision="v1", local=False).source == "someone/tiny"
    assert _code(load_model, str(tiny), local=False).code == "hub.bad_repo_id"


def test_errors_name_the_repo_not_the_cache_folder(tiny, tmp_path, offline):
    """A broken repo loaded by id: every message names what the user typed, never the server's cache path."""
    noconf = tmp_path / "noconf"
    shutil.copytree(tiny, noconf)
    (noconf / "config.json").unlink()
    populate_cache(offline, "someone/noconf", noconf)
    assert _code(load_model, "someone/noconf").params == {"folder": "someone/noconf"}
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny, pickled)
    (pickled / "model.safetensors").unlink()
    (pickled / "model.pt").write_bytes(b"x")
    populate_cache(offline, "someone/pickled", pickled)
    e = _code(load_model, "someone/pickled")
    assert e.code == "hub.pickle_only" and e.params["folder"] == "someone/pickled"


def test_refusal_details_are_bounded(tiny, tmp_path):
    odd = with_config(shutil.copytree(tiny, tmp_path / "odd"), architecture="A" * 200)
    assert _code(load_model, odd).params["architecture"] == "A" * 80
    long_kw = with_config(shutil.copytree(tiny, tmp_path / "kw"), **{"k" * 300: 1})
    e = _code(load_model, long_kw)
    assert e.code == "hub.config_unknown_keys" and e.params["folder"] == str(long_kw)
    assert e.params["keys"] == "k" * 200
    wide = with_config(shutil.copytree(tiny, tmp_path / "wide"), width=8)
    e = _code(load_model, wide)
    assert e.params["folder"] == str(wide) and len(e.params["detail"]) == 300 and "\n" not in e.params["detail"]
    assert e.params["detail"].startswith("Error(s) in loading state_dict for DCGANGenerator64: ")
    assert e.params["detail"].count("size mismatch") == 2  # the first three lines: a heading and two mismatches


def test_missing_or_extra_weights_are_refused_strictly(tiny):
    from safetensors.torch import load_file, save_file
    state = load_file(tiny / "model.safetensors")
    dropped = next(k for k in state if k.endswith(".weight"))  # (BatchNorm forgives a missing counter, not a weight)
    save_file({k: v for k, v in state.items() if k != dropped}, tiny / "model.safetensors")
    e = _code(load_model, tiny)
    assert e.code == "hub.weights_mismatch" and dropped in e.params["detail"]
    save_file({**state, "extra.weight": torch.zeros(1)}, tiny / "model.safetensors")
    assert "extra.weight" in _code(load_model, tiny).params["detail"]


def test_non_object_config_is_a_coded_refusal(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('"just a string"')
    e = _code(read_config, folder, "shown")
    assert e.code == "hub.bad_config_json" and e.params == {"folder": "shown", "detail": "a str, not an object"}
    (folder / "config.json").write_text("{broken")
    assert _code(read_config, folder, "shown").params["folder"] == "shown"


def test_too_large_reports_megabytes(tmp_path, monkeypatch):
    from safetensors.torch import save_file
    folder = tmp_path / "big"
    folder.mkdir()
    save_file({"w": torch.zeros(3 * 2**18)}, folder / "model.safetensors")  # 3 MiB of float32
    monkeypatch.setattr(hub, "MAX_WEIGHT_BYTES", 2 * 2**20)
    e = _code(read_weights, folder, "shown")
    assert e.params == {"folder": "shown", "mb": 3, "limit_mb": 2}


def test_every_pickle_is_named(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("a.pt", "b.bin"):
        (folder / name).write_bytes(b"not read")
    assert set(_code(read_weights, folder).params["files"].split(", ")) == {"a.pt", "b.bin"}


def test_mismatch_detail_is_the_first_three_lines(tiny):
    """Missing, unexpected and resized weights: torch lists missing and unexpected keys first; the detail
    keeps the heading and those two lines, not the size mismatch after them."""
    from safetensors.torch import load_file, save_file
    state = load_file(tiny / "model.safetensors")
    weights = [k for k in state if k.endswith(".weight")]
    state.pop(weights[0])
    state[weights[1]] = torch.zeros(1)
    save_file({**state, "extra.weight": torch.zeros(1)}, tiny / "model.safetensors")
    detail = _code(load_model, tiny).params["detail"]
    assert "Missing key(s)" in detail and "Unexpected key(s)" in detail and "size mismatch" not in detail


def test_a_config_with_a_zero_width_is_refused_quietly(tiny, tmp_path):
    """width 0 builds layers with no weights (torch warns on each one): refused in words, with no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        e = _code(load_model, with_config(shutil.copytree(tiny, tmp_path / "zero"), width=0))
    assert e.code == "hub.config_refused" and e.params["reason"] == Message("model.empty_layer")
    assert e.params["folder"] == str(tmp_path / "zero") and e.params["architecture"] == "DCGANGenerator64"
    assert load_model(tiny).source == str(tiny)  # the same folder at its own width loads

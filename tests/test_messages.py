"""gan_core's messages reach every language: each locale translates every code with the same
placeholders, and each refusal the engine makes arrives as a coded GanError that a Hebrew page
shows in Hebrew (not the English sentence the CLI prints)."""
import io
import json
import string
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import data, hub, latent
from gan_core.image_io import load_image
from gan_core.messages import ENGLISH, GanError, Message, as_message, render
from gan_core.config import TrainConfig
from gan_core.models import (DCGANDiscriminator28, DCGANGenerator28, DCGANGenerator64, FaceExerciseDiscriminator,
                             FaceExerciseGenerator, GeneratorBase, MLPDiscriminator, MLPGenerator)
from gan_core.pipelines import score_generator
from gan_core.training import Trainer
from gan_devkit.model_folder import with_config
from ui.i18n import LOCALES, render_message, translate

OTHER_LOCALES = sorted(p.stem for p in LOCALES.glob("*.json") if p.stem != "en")


def fields(template: str) -> list[tuple]:
    """(name, conversion, format spec) of every placeholder, sorted."""
    return sorted((name, conv, spec) for _, name, spec, conv in string.Formatter().parse(template) if name is not None)


def test_there_is_a_locale_to_check():
    assert "he" in OTHER_LOCALES


@pytest.mark.parametrize("lang", OTHER_LOCALES)
def test_every_code_is_translated_with_the_same_placeholders(lang):
    table = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    missing = [code for code in ENGLISH if f"msg.{code}" not in table]
    assert not missing, f"{lang}.json lacks msg.* keys for {missing}"
    stale = [k for k in table if k.startswith("msg.") and k[4:] not in ENGLISH]
    assert not stale, f"{lang}.json translates codes gan_core no longer has: {stale}"
    for code, english in ENGLISH.items():
        assert fields(table[f"msg.{code}"]) == fields(english), (lang, code)


def test_english_comes_from_gan_core_only():
    en = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    assert not [k for k in en if k.startswith("msg.")]  # one English text per code: gan_core.messages
    assert all(translate(f"msg.{code}") == text for code, text in ENGLISH.items())


# ------------------------------------------------------------------------------------------------ refusals


def encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def png_header_only(w: int, h: int) -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def truncated_png() -> bytes:
    x = np.linspace(0, 255, 200, dtype=np.uint8)[None, :].repeat(150, 0)
    png = encode(Image.fromarray(np.stack([x, x[::-1], x], -1)), "PNG")
    return png[: len(png) // 2]


def model_folder(tmp_path, edit=None):
    folder = hub.save_model(MLPGenerator(hidden=8), tmp_path / "model")
    if edit:
        edit(folder)
    return folder


def pickle_only(folder):
    (folder / "model.safetensors").unlink()
    torch.save(MLPGenerator(hidden=8).state_dict(), folder / "pytorch_model.bin")


def write(name: str, content: bytes | str):
    def edit(folder):
        path = folder / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return edit


EVIL = json.dumps({"architecture": "Evil"})

REFUSALS = {  # id -> (a call that must refuse, the codes it may refuse with)
    "empty-file": (lambda tmp: load_image(b""), {"image.empty"}),
    "not-an-image": (lambda tmp: load_image(b"hello, I am a text file\n" * 20), {"image.unknown_format"}),
    "truncated-png": (lambda tmp: load_image(truncated_png()), {"image.truncated", "image.damaged_header"}),
    "too-many-pixels": (lambda tmp: load_image(png_header_only(8000, 6000)), {"image.too_many_pixels"}),
    "decompression-bomb": (lambda tmp: load_image(png_header_only(50_000, 50_000)),
                           {"image.bomb", "image.too_many_pixels"}),
    "pickle-only-folder": (lambda tmp: hub.load_model(model_folder(tmp, pickle_only)), {"hub.pickle_only"}),
    "no-config-json": (lambda tmp: hub.load_model(model_folder(tmp, lambda f: (f / "config.json").unlink())),
                       {"hub.no_config"}),
    "invalid-config-json": (lambda tmp: hub.load_model(model_folder(tmp, write("config.json", "{nope"))),
                            {"hub.bad_config_json"}),
    "corrupt-safetensors": (lambda tmp: hub.load_model(model_folder(tmp, write("model.safetensors", b"\0" * 100))),
                            {"hub.corrupt_weights"}),
    "unknown-architecture": (lambda tmp: hub.load_model(model_folder(tmp, write("config.json", EVIL))),
                             {"hub.unknown_architecture"}),
    "wrong-model-kind": (lambda tmp: hub.load_model(hub.save_model(MLPDiscriminator(hidden=8), tmp / "d"),
                                                    expect=GeneratorBase), {"hub.wrong_kind"}),
    "config-json-unknown-setting": (lambda tmp: hub.load_model(model_folder(tmp, lambda f: with_config(f, colour="blue"))),
                                    {"hub.config_unknown_keys"}),
    "config-json-a-network-refuses": (lambda tmp: hub.load_model(model_folder(tmp, lambda f: with_config(f, hidden=0))),
                                      {"hub.config_refused"}),
    "model-path-is-a-file": (lambda tmp: hub.load_model(model_folder(tmp) / "config.json"), {"hub.is_file"}),
    "missing-image-folder": (lambda tmp: data.load_image_folder(tmp / "missing"), {"data.folder_not_found"}),
    "folder-without-images": (lambda tmp: (write("bad.png", b"\x89PNG garbage")(tmp), data.load_image_folder(tmp)),
                              {"data.no_images"}),
    "psi-1.5": (lambda tmp: latent.truncate(torch.zeros(3, 8), 1.5), {"latent.bad_psi"}),
    "bad-interpolation-mode": (lambda tmp: latent.interpolate(torch.ones(8), -torch.ones(8), 4, "cubic"),
                               {"latent.bad_mode"}),
    "one-step-interpolation": (lambda tmp: latent.interpolate(torch.ones(8), -torch.ones(8), 1), {"latent.bad_steps"}),
    # run configs (the page's upload, the CLI's flags) and training
    "config-not-json": (lambda tmp: TrainConfig.from_json("{nope"), {"config.not_json"}),
    "config-not-an-object": (lambda tmp: TrainConfig.from_json("[1, 2]"), {"config.not_object"}),
    "config-unknown-key": (lambda tmp: TrainConfig.from_json('{"lr": 1}'), {"config.unknown_keys"}),
    "config-wrong-type": (lambda tmp: TrainConfig.from_json('{"seed": "x"}'), {"config.wrong_type"}),
    "config-out-of-range": (lambda tmp: TrainConfig.from_json('{"batch_size": 0}'), {"config.out_of_range"}),
    "config-unknown-model": (lambda tmp: TrainConfig.preset("not-a-model"), {"config.unknown_model"}),
    "conditional-without-labels": (lambda tmp: Trainer(TrainConfig.preset("cdcgan"), torch.zeros(4, 1, 28, 28),
                                                       device="cpu"), {"train.needs_labels"}),
    "wrong-image-size": (lambda tmp: Trainer(TrainConfig.preset("dcgan"), torch.zeros(4, 3, 48, 48), device="cpu"),
                         {"train.bad_img_size"}),
    "ema-out-of-range": (lambda tmp: Trainer(TrainConfig.preset("mlp"), torch.zeros(4, 1, 28, 28),
                                             device="cpu").enable_ema(1.5), {"config.ema_range"}),
    "digit-scores-of-faces": (lambda tmp: score_generator(DCGANGenerator64(width=4)), {"metrics.not_digits"}),
}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("case", REFUSALS)
def test_each_refusal_is_coded_and_reaches_hebrew(case, tmp_path):
    call, codes = REFUSALS[case]
    with pytest.raises(GanError) as err:
        call(tmp_path)
    e = err.value
    assert e.code in codes and e.code in ENGLISH
    english = render_message(e, "en")
    assert english == str(e) and english != e.code  # the CLI's English sentence
    hebrew = render_message(e, "he")
    assert hebrew != english and any("\u0590" <= ch <= "\u05ff" for ch in hebrew)
    assert as_message(e) == e.message


NETWORK_REFUSALS = {  # each code of a network's own refusal -> a small network, and a config.json edit it refuses
    "model.class_norm_needs_classes": (DCGANGenerator28(width=4), {"class_norm": True}),
    "model.twin_needs_classes": (DCGANDiscriminator28(width=4), {"twin": True}),
    "model.hidden_layers": (DCGANGenerator28(width=4, hidden=8), {"hidden_layers": 9}),
    "model.small_img_size": (DCGANGenerator28(width=4), {"img_size": 64}),
    "model.unknown_norm": (DCGANDiscriminator28(width=4), {"norm": "spectral"}),
    "model.pooled_img_size": (FaceExerciseDiscriminator(width=4, hidden=8), {"img_size": 60}),
    "model.unpooled_img_size": (FaceExerciseGenerator(width=4), {"img_size": 60}),
    "model.empty_layer": (DCGANGenerator64(width=4), {"width": 0}),
}


def test_every_refusal_of_a_network_is_reached_from_a_config_json():
    assert set(NETWORK_REFUSALS) == {code for code in ENGLISH if code.startswith("model.")}


@pytest.mark.parametrize("code", sorted(NETWORK_REFUSALS))
def test_a_networks_refusal_of_a_config_json_reaches_every_language_whole(code, tmp_path):
    """A teacher loading a folder whose config.json a network refuses reads both halves, the folder's sentence
    and the network's reason, in the page's language: no English sentence inside a Hebrew one."""
    net, changes = NETWORK_REFUSALS[code]
    folder = with_config(hub.save_model(net, tmp_path / "model"), **changes)
    with pytest.raises(GanError) as err:
        hub.load_model(folder)
    e = err.value
    assert e.code == "hub.config_refused" and e.params["architecture"] == type(net).__name__
    reason = e.params["reason"]
    assert reason.code == code and render_message(e, "en") == str(e)
    assert str(e) == ENGLISH["hub.config_refused"].format(folder=folder, architecture=type(net).__name__,
                                                           reason=ENGLISH[code].format(**reason.params))
    for lang in OTHER_LOCALES:
        whole, inner = render_message(e, lang), render_message(reason, lang)
        assert inner != render_message(reason, "en") and whole.endswith(inner), lang
        assert render_message(reason, "en") not in whole and str(folder) in whole, lang


def test_a_diverged_run_stops_with_a_message_in_the_users_language():
    """NaN losses (the trainer) and runaway losses (the page's session) are messages, not sentences."""
    from ui.train_session import TrainSession
    t = Trainer(TrainConfig.preset("mlp", batch_size=8, width=16), torch.rand(64, 1, 28, 28) * 2 - 1, device="cpu")
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    t.step(2)
    assert isinstance(t.error, Message) and t.error.code == "train.diverged"
    assert any("\u0590" <= ch <= "\u05ff" for ch in render_message(t.error, "he"))
    sess = TrainSession(torch.rand(64, 1, 28, 28) * 2 - 1, TrainConfig.preset("mlp", batch_size=8, width=16,
                                                                               lr_g=1e9, lr_d=1e9))
    sess.score_every_s = 1e9
    sess.start()
    for _ in range(20):
        if sess.error:
            break
        sess.tick()
    assert sess.error.code in ("train.diverged", "train.diverged_limit")
    assert render_message(sess.error, "he") != render_message(sess.error, "en")


def test_an_unknown_exception_still_becomes_a_message():
    m = as_message(KeyError("boom"))
    assert m.code == "error.unexpected" and "KeyError" in render_message(m, "he")


# ------------------------------------------------------------------------------------------------ nesting


def test_a_nested_message_is_rendered_in_the_same_language():
    inner = Message("latent.bad_psi", {"psi": 1.5})
    outer = Message("error.unexpected", {"kind": "LatentError", "detail": inner})
    table = {"msg.error.unexpected": "OUTER {kind}: {detail}", "msg.latent.bad_psi": "INNER psi={psi}"}
    assert render(outer, table.get) == "OUTER LatentError: INNER psi=1.5"
    assert render(outer) == f"unexpected error: `LatentError: {ENGLISH['latent.bad_psi'].format(psi=1.5)}`"
    hebrew = render_message(outer, "he")
    assert render_message(inner, "he") in hebrew and render_message(inner, "en") not in hebrew


def test_a_broken_translation_falls_back_to_english():
    m = Message("latent.bad_psi", {"psi": 2})
    assert render(m, {"msg.latent.bad_psi": "psi {nope}"}.get) == ENGLISH["latent.bad_psi"].format(psi=2)


def test_an_unknown_code_says_its_code_and_values_and_a_translation_of_it_alone_is_kept_when_broken():
    assert render(Message("no.such.code", {"a": 1})) == "no.such.code {'a': 1}"
    assert render(Message("no.such.code")) == "no.such.code"
    # a code only a locale knows, whose template asks a value it was not given: the template, unformatted
    assert render(Message("only.here", {"x": 1}), {"msg.only.here": "only {y}"}.get) == "only {y}"


def test_any_exception_is_a_message_with_its_type_and_first_200_characters():
    assert as_message(ValueError("y" * 300)) == Message("error.unexpected", {"kind": "ValueError", "detail": "y" * 200})


def test_a_refusal_crosses_a_process_boundary_whole():
    """A coded error pickled (a worker process's refusal) comes back as the same class with its code and values,
    its sentence, and its code in its repr and args."""
    import pickle
    err = hub.ModelLoadError("hub.config_refused", folder="f", architecture="A", reason=Message("model.empty_layer"))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is hub.ModelLoadError and (back.code, back.params) == (err.code, err.params)
    assert str(back) == str(err) == "f/config.json does not fit A: a layer with no weights"
    assert back.args == ("hub.config_refused",) and repr(back) == "ModelLoadError('hub.config_refused')"


# ------------------------------------------------------------------------------------------------ direction
FSI, PDI = "\u2068", "\u2069"


def isolates(text: str) -> list[str]:
    """The text of each outermost first-strong isolate in `text`, its own bidi controls removed."""
    spans, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == FSI:
            depth, start = depth + 1, (i if depth == 0 else start)
        elif ch == PDI:
            depth -= 1
            if depth == 0:
                spans.append(text[start:i].replace(FSI, "").replace(PDI, ""))
    assert depth == 0, f"unbalanced isolates in {text!r}"
    return spans


@pytest.mark.parametrize("lang", ["he", "fa"])
def test_in_a_right_to_left_sentence_each_path_and_name_keeps_its_own_direction(lang):
    """Without an isolate the bidi algorithm moves a path's leading "/" to its far end and "/config.json" before the
    folder (seen in Chromium); the e2e test on the latent page checks the drawing, this one the text."""
    e = GanError("hub.config_refused", folder="/tmp/a b", architecture="DCGANGenerator64",
                 reason=Message("model.unknown_norm", {"known": "batch, none", "value": "x/y"}))
    text = render_message(e, lang)
    spans = isolates(text)
    assert "/tmp/a b/config.json" in spans and "DCGANGenerator64" in spans and "'x/y'" in spans, spans
    assert render_message(e.params["reason"], lang) in text  # the reason: a sentence in the page's direction
    assert all(not s.startswith(render_message(e.params["reason"], lang)[:8]) for s in spans), spans
    quoted = render_message(GanError("hub.bad_repo_id", source="/etc"), lang)
    assert isolates(quoted) == ["'/etc'"] and "\\u2068" not in quoted  # repr() of the value, not of the isolate


@pytest.mark.parametrize("lang", ["he", "fa"])
def test_numbers_are_left_as_they_read(lang):
    """640x480 reads left to right already; two isolated numbers around the x would draw it as 480x640."""
    text = render_message(GanError("image.too_many_pixels", width=640, height=480, megapixels=40), lang)
    assert "640x480" in text and isolates(text) == [], text


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_left_to_right_languages_get_no_bidi_controls(lang):
    text = render_message(GanError("hub.config_refused", folder="/tmp/a", architecture="X",
                                   reason=Message("model.empty_layer")), lang)
    assert "/tmp/a/config.json" in text and not set(text) & {FSI, PDI, "\u200f"}, text


def test_an_untranslated_code_in_a_right_to_left_language_is_english_with_its_paths_isolated(monkeypatch):
    import ui.i18n
    monkeypatch.setattr(ui.i18n, "_table", lambda lang: {"_dir": "rtl"} if lang == "he" else {})
    text = render_message(GanError("hub.bad_config_json", folder="/srv/m", detail="Expecting value"), "he")
    assert text.startswith(FSI) and isolates(text) == ["/srv/m/config.json", "Expecting value"], text
    assert text.replace(FSI, "").replace(PDI, "") == str(GanError("hub.bad_config_json", folder="/srv/m",
                                                                   detail="Expecting value"))

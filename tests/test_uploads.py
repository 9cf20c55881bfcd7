"""Hostile and odd uploads: every archive is built here with zipfile, every image with PIL."""
import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_core.uploads import UploadError, UploadLimits, read_uploads, read_zip

MiB = 2 ** 20


def png(colour=(255, 0, 0), size=(40, 40), mode="RGB", fmt="PNG", **save) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, fmt, **save)
    return buf.getvalue()


def make_zip(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """members: (name or ZipInfo, bytes) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def reasons_of(found) -> dict:
    return {name: m.code for name, m in found.skipped}


def test_a_plain_zip_reads_every_image_at_the_asked_shape():
    raw = make_zip([("a/red.png", png()), ("b/green.jpg", png((0, 255, 0), fmt="JPEG")), ("c.bmp", png(fmt="BMP"))])
    found = read_zip(raw, size=32, channels=3)
    assert found.images.shape == (3, 32, 32, 3) and found.images.dtype == np.uint8
    assert found.names == ["a/red.png", "b/green.jpg", "c.bmp"] and not found.skipped
    assert tuple(found.images[0, 16, 16]) == (255, 0, 0)
    grey = read_zip(raw, size=28, channels=1)
    assert grey.images.shape == (3, 28, 28)


def test_unsafe_names_symlinks_nested_archives_and_non_images_are_skipped_with_reasons():
    link = zipfile.ZipInfo("link.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    raw = make_zip([
        ("../escape.png", png()), ("/etc/abs.png", png()), ("C:/win.png", png()), ("a/../../up.png", png()),
        (link, b"/etc/passwd"),
        ("inner.zip", make_zip([("x.png", png())])), ("disguised.png", make_zip([("y.png", png())])),
        ("data.tar.gz", b"\x1f\x8b" + b"0" * 50),
        ("notes.txt", b"hello"), ("__MACOSX/._ok.png", b"\x00\x05\x16\x07"), (".DS_Store", b"\x00" * 10),
        ("ok.png", png()),
    ])
    found = read_zip(raw, size=32)
    assert found.names == ["ok.png"]
    assert reasons_of(found) == {
        "../escape.png": "upload.skip.unsafe_name", "/etc/abs.png": "upload.skip.unsafe_name",
        "C:/win.png": "upload.skip.unsafe_name", "a/../../up.png": "upload.skip.unsafe_name",
        "link.png": "upload.skip.symlink",
        "inner.zip": "upload.skip.nested_archive", "disguised.png": "upload.skip.nested_archive",
        "data.tar.gz": "upload.skip.nested_archive",
        "notes.txt": "upload.skip.not_image", "__MACOSX/._ok.png": "upload.skip.system_file",
        ".DS_Store": "upload.skip.system_file"}
    assert found.reasons()["upload.skip.unsafe_name"] == 4


def test_a_real_zip_bomb_is_refused_from_its_directory_before_unpacking():
    # 60 members of 18 MiB zeros: ~1 MiB on disk, 1080 MiB unpacked, over the default 1024 MiB.
    zeros = bytes(18 * MiB)
    raw = make_zip([(f"bomb{i}.bmp", zeros) for i in range(60)])
    assert len(raw) < 2 * MiB
    with pytest.raises(UploadError) as err:
        read_zip(raw)
    assert err.value.code == "upload.too_large_unpacked" and err.value.params["mb"] >= 1024
    assert "zip bomb" in str(err.value)


def test_one_highly_compressed_member_is_skipped_for_its_ratio_and_one_too_large_for_its_size():
    raw = make_zip([("flat.bmp", bytes(5 * MiB)), ("huge.bmp", bytes(25 * MiB)), ("ok.png", png())])
    found = read_zip(raw)
    assert found.names == ["ok.png"]
    assert reasons_of(found) == {"flat.bmp": "upload.skip.ratio", "huge.bmp": "upload.skip.too_large"}
    ratio = dict(found.skipped)["flat.bmp"]
    assert ratio.params["ratio"] > 100 and "zip bomb" in str(ratio)


def test_declared_size_cannot_lie_past_the_per_file_cap():
    # A stored member whose directory says 100 bytes while 3 MiB follow: zipfile stops at the declared
    # size and the CRC check fails, so the member is skipped, never read in full.
    big = png(size=(1200, 900))
    raw = bytearray(make_zip([("liar.png", big)], compression=zipfile.ZIP_STORED))
    real = len(big).to_bytes(4, "little")
    assert raw.count(real) == 2 * 2  # compressed and uncompressed size, in the local header and the directory
    raw = raw.replace(real, (100).to_bytes(4, "little"))
    found = read_uploads([("liar.zip", bytes(raw)), ("ok.png", png())])
    assert found.names == ["ok.png"] and reasons_of(found) == {"liar.png": "upload.skip.bad_member"}


def test_thousands_of_tiny_files_are_refused_by_count():
    raw = make_zip([(f"t/{i}.png", b"") for i in range(301)])
    with pytest.raises(UploadError) as err:
        read_zip(raw, limits=UploadLimits(members=300))
    assert err.value.code == "upload.too_many_files" and err.value.params["count"] == 301


def test_image_count_and_memory_caps_skip_the_rest():
    raw = make_zip([(f"{i}.png", png((i, i, i))) for i in range(12)])
    found = read_zip(raw, size=32, limits=UploadLimits(images=5))
    assert found.read == 5 and found.reasons() == {"upload.skip.over_limit": 7}
    # 64x64x3 floats are 48 KiB each: a 200 KiB memory cap keeps 4
    found = read_zip(raw, size=64, limits=UploadLimits(tensor_bytes=200 * 1024))
    assert found.read == 4


def test_decompression_bomb_image_is_refused_by_pixels_not_decoded():
    buf = io.BytesIO()
    Image.new("1", (12_000, 10_000)).save(buf, "PNG")  # 120 megapixels in a few KB
    assert len(buf.getvalue()) < 200_000
    found = read_uploads([("bomb.png", buf.getvalue()), ("ok.png", png())])
    assert found.names == ["ok.png"] and reasons_of(found)["bomb.png"] in ("image.bomb", "image.too_many_pixels")


def test_exif_rotation_is_applied():
    im = Image.new("RGB", (60, 40), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 60, 20))  # top half red, bottom blue: stored upright
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the displayed image is 40 wide, 60 tall, red on the right
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif, quality=95)
    found = read_uploads([("phone.jpg", buf.getvalue())], size=30)
    a = found.images[0].astype(int)
    assert a[15, 25, 0] > 200 and a[15, 5, 2] > 200, "red must end up on the right, blue on the left"
    assert found.notes["image.note.exif_rotated"] == 1


def test_cmyk_16bit_palette_and_la_become_the_right_colours():
    cmyk = io.BytesIO()
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(cmyk, "JPEG", quality=100)  # pure red in CMYK
    deep = io.BytesIO()
    Image.fromarray(np.full((32, 32), 65535 // 2, np.uint16)).save(deep, "PNG")  # 16-bit mid grey
    pal = Image.new("P", (32, 32))
    pal.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    pal.paste(1, (0, 0, 32, 32))
    pal_buf = io.BytesIO()
    pal.save(pal_buf, "PNG")
    la = io.BytesIO()
    Image.new("LA", (32, 32), (0, 0)).save(la, "PNG")  # black, fully transparent: onto white
    found = read_uploads([("cmyk.jpg", cmyk.getvalue()), ("deep.png", deep.getvalue()),
                          ("pal.png", pal_buf.getvalue()), ("la.png", la.getvalue())], size=16)
    assert not found.skipped
    px = found.images[:, 8, 8].astype(int)
    assert px[0, 0] > 230 and px[0, 1] < 30 and px[0, 2] < 30          # red
    assert all(abs(v - 128) <= 2 for v in px[1])                           # 16-bit mid grey -> 128, not 255
    assert tuple(px[2]) == (0, 200, 0)                                     # palette colour
    assert tuple(px[3]) == (255, 255, 255)                                 # transparency on white
    assert {"image.note.cmyk", "image.note.deep_to_8bit", "image.note.alpha_filled"} <= set(found.notes)


def test_damaged_images_and_empty_files_are_skipped_with_image_codes():
    broken = png(size=(64, 64))[:60]
    found = read_uploads([("empty.png", b""), ("broken.png", broken), ("ok.png", png())])
    assert found.names == ["ok.png"]
    assert reasons_of(found)["empty.png"] == "image.empty"
    assert reasons_of(found)["broken.png"].startswith("image.")


def test_not_a_zip_and_no_images_are_refused_whole():
    with pytest.raises(UploadError) as err:
        read_zip(b"this is not a zip")
    assert err.value.code == "upload.not_zip"
    with pytest.raises(UploadError) as err:
        read_zip(make_zip([("readme.txt", b"hi")]))
    assert err.value.code == "upload.no_images" and err.value.params["skipped"] == 1
    with pytest.raises(UploadError) as err:
        read_zip(make_zip([("a.png", png())]), limits=UploadLimits(archive_bytes=10))
    assert err.value.code == "upload.archive_too_large"


def test_encrypted_member_is_skipped():
    raw = bytearray(make_zip([("secret.png", png()), ("ok.png", png())], compression=zipfile.ZIP_STORED))
    # set the "encrypted" flag bit of the first member in its central directory entry (PK\x01\x02 + 8 bytes)
    at = raw.index(b"PK\x01\x02") + 8
    raw[at] |= 0x1
    found = read_zip(bytes(raw))
    assert reasons_of(found) == {"secret.png": "upload.skip.encrypted"} and found.names == ["ok.png"]


def test_loose_files_and_a_zip_mix_under_one_set_of_caps(tmp_path):
    z = make_zip([("in/a.png", png()), ("in/b.png", png())])
    found = read_uploads([("x.png", png()), ("more.zip", z), ("y.gif", png(fmt="GIF"))], size=28, channels=1,
                         limits=UploadLimits(images=3))
    assert found.names == ["x.png", "in/a.png", "in/b.png"] and found.reasons() == {"upload.skip.over_limit": 1}
    path = tmp_path / "faces.zip"
    path.write_bytes(z)
    assert read_zip(path).read == 2  # a path reads like bytes (the CLI's --data faces.zip)

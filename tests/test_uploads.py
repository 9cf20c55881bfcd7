"""Hostile and odd uploads: every archive is built here with zipfile, every image with PIL."""
import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_core.messages import Message
from gan_core.uploads import UploadError, UploadLimits, read_uploads, read_zip
from gan_devkit.archives import make_zip, png

MiB = 2 ** 20


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


# What each refusal and skip names, at each cap's edge (mutation testing asked; see docs/testing.md).

def refused(call, *args, **kw) -> UploadError:
    with pytest.raises(UploadError) as err:
        call(*args, **kw)
    return err.value


def noise(n: int) -> bytes:
    """Bytes that do not compress: an archive of them is as large as they are."""
    return np.random.default_rng(0).bytes(n)


def crc_broken_zip(members, broken: str) -> bytes:
    """A stored zip whose member `broken` has one byte flipped: its CRC check fails when it is read."""
    raw = bytearray(make_zip(members, compression=zipfile.ZIP_STORED))
    data = dict(members)[broken]
    raw[raw.index(data) + len(data) // 2] ^= 0xFF
    return bytes(raw)


def test_the_default_size_is_64_colour():
    assert read_zip(make_zip([("a.png", png())])).images.shape == (1, 64, 64, 3)
    assert read_uploads([("a.png", png())]).images.shape == (1, 64, 64, 3)


def test_an_archive_is_measured_before_it_is_opened(tmp_path):
    raw = make_zip([("noise.bin.png", noise(int(1.5 * MiB))), ("a.png", png())], compression=zipfile.ZIP_STORED)
    limit = int(1.25 * MiB)
    e = refused(read_zip, raw, limits=UploadLimits(archive_bytes=limit))
    assert (e.code, e.params) == ("upload.archive_too_large", {"name": "upload.zip", "mb": 1, "limit_mb": 1})
    path = tmp_path / "class photos.zip"
    path.write_bytes(raw)
    e = refused(read_zip, path, limits=UploadLimits(archive_bytes=limit))
    assert e.params["name"] == "class photos.zip"  # a path is named by its file name
    assert read_zip(path, limits=UploadLimits(archive_bytes=len(raw))).names == ["a.png"]  # at the cap: read
    e = refused(read_zip, tmp_path / "missing.zip")
    assert (e.code, e.params) == ("upload.no_such_file", {"path": str(tmp_path / "missing.zip")})
    e = refused(read_zip, 12345)
    assert (e.code, e.params) == ("upload.bad_source", {"kind": "int"})
    e = refused(read_zip, b"not a zip")
    assert (e.code, e.params) == ("upload.not_zip", {"name": "upload.zip"})


def test_the_entry_count_cap_and_the_declared_unpacked_size(tmp_path):
    three = make_zip([(f"{i}.png", png()) for i in range(3)])
    assert read_zip(three, limits=UploadLimits(members=3)).read == 3  # at the cap: read
    e = refused(read_zip, three, limits=UploadLimits(members=2))
    assert (e.code, e.params) == ("upload.too_many_files", {"name": "upload.zip", "count": 3, "limit": 2})
    raw = make_zip([("zeros.bmp", bytes(int(1.5 * MiB))), ("a.png", png())])
    declared = int(1.5 * MiB) + len(png())
    found = read_zip(raw, limits=UploadLimits(total_bytes=declared))  # at the cap: read (the zeros skipped as a bomb)
    assert found.names == ["a.png"] and found.reasons() == {"upload.skip.ratio": 1}
    e = refused(read_zip, raw, limits=UploadLimits(total_bytes=int(1.25 * MiB)))
    assert (e.code, e.params) == ("upload.too_large_unpacked", {"name": "upload.zip", "mb": 1, "limit_mb": 1})


def test_the_unpacked_cap_counts_every_archive_of_one_upload():
    first = make_zip([("a.png", png(size=(600, 600))), ("b.png", png())])
    second = make_zip([("c.png", png())])
    total = 2 * len(png()) + len(png(size=(600, 600)))
    found = read_uploads([("one.zip", first), ("two.zip", second)], limits=UploadLimits(total_bytes=total))
    assert found.names == ["a.png", "b.png", "c.png"]
    e = refused(read_uploads, [("one.zip", first), ("two.zip", second)], limits=UploadLimits(total_bytes=total - 1))
    assert (e.code, e.params["name"]) == ("upload.too_large_unpacked", "two.zip")


def test_a_member_at_the_file_cap_is_read_and_one_over_it_is_skipped_with_the_cap():
    small = png()
    found = read_zip(make_zip([("a.png", small)]), limits=UploadLimits(file_bytes=len(small)))
    assert found.names == ["a.png"]
    raw = make_zip([("zeros.bmp", bytes(2 * MiB)), ("a.png", small)])
    found = read_zip(raw, limits=UploadLimits(file_bytes=int(1.5 * MiB)))
    assert found.skipped == [("zeros.bmp", Message("upload.skip.too_large", {"limit_mb": 1}))]


def test_the_ratio_cap_names_the_ratio_and_holds_only_above_its_size_and_ratio():
    raw = make_zip([("flat.bmp", bytes(5 * MiB)), ("ok.png", png())])
    info = zipfile.ZipFile(io.BytesIO(raw)).getinfo("flat.bmp")
    found = read_zip(raw)
    assert found.skipped == [("flat.bmp", Message("upload.skip.ratio",
                                                  {"ratio": int(info.file_size / info.compress_size), "limit": 100}))]
    # a flat picture under a megabyte compresses as much, and is read: small members cannot hurt
    flat = png(size=(400, 300), fmt="BMP")
    raw = make_zip([("flat.bmp", flat)])
    info = zipfile.ZipFile(io.BytesIO(raw)).getinfo("flat.bmp")
    ratio = info.file_size / info.compress_size
    assert ratio > 100 and read_zip(raw).names == ["flat.bmp"]
    assert read_zip(raw, limits=UploadLimits(ratio_from=info.file_size)).read == 1     # not above the size: read
    assert read_zip(raw, limits=UploadLimits(ratio_from=0, ratio=ratio)).read == 1     # not above the ratio: read
    e = refused(read_zip, raw, limits=UploadLimits(ratio_from=0, ratio=ratio - 1))
    assert e.code == "upload.no_images" and e.params == {"skipped": 1}


def test_a_directory_claiming_nothing_packed_is_a_bomb_by_its_whole_size():
    raw = bytearray(make_zip([("flat.bmp", bytes(2 * MiB)), ("ok.png", png())]))
    at = raw.index(b"PK\x01\x02") + 20  # the first member's packed size in the central directory
    raw[at:at + 4] = (0).to_bytes(4, "little")
    found = read_zip(bytes(raw))
    assert found.skipped == [("flat.bmp", Message("upload.skip.ratio", {"ratio": 2 * MiB, "limit": 100}))]


def test_names_that_point_elsewhere_or_are_system_files_are_skipped():
    members = [("C:photo.png", png()), ("\\rooted.png", png()), ("..\\up.png", png()),
               ("__MACOSX/photo.png", png()), ("._photo.png", png()), ("Thumbs.db", b"x"), ("desktop.ini", b"x"),
               ("inner.zip", b"not even a zip"), ("ok.png", png())]
    found = read_zip(make_zip(members))
    assert found.names == ["ok.png"]
    assert reasons_of(found) == {
        "C:photo.png": "upload.skip.unsafe_name", "\\rooted.png": "upload.skip.unsafe_name",
        "..\\up.png": "upload.skip.unsafe_name", "__MACOSX/photo.png": "upload.skip.system_file",
        "._photo.png": "upload.skip.system_file", "Thumbs.db": "upload.skip.system_file",
        "desktop.ini": "upload.skip.system_file", "inner.zip": "upload.skip.nested_archive"}


def test_loose_files_are_checked_by_name_and_a_zip_is_known_by_its_bytes_too():
    inner = make_zip([("in/a.png", png()), ("in/b.png", png())])
    found = read_uploads([("../x.png", png()), ("notes.txt", b"hello"), ("photos.jpg", inner), ("c.png", png())])
    assert found.names == ["in/a.png", "in/b.png", "c.png"]  # a zip renamed .jpg is still opened as one
    assert found.skipped == [("../x.png", Message("upload.skip.unsafe_name")),
                             ("notes.txt", Message("upload.skip.not_image"))]
    e = refused(read_uploads, [("c.png", png()), ("Broken.ZIP", b"junk")])
    assert (e.code, e.params) == ("upload.not_zip", {"name": "Broken.ZIP"})


def test_images_over_the_cap_are_named_with_it_and_not_even_unpacked():
    found = read_uploads([("a.png", png()), ("b.png", png())], limits=UploadLimits(images=1))
    assert found.skipped == [("b.png", Message("upload.skip.over_limit", {"limit": 1}))]
    members = [("a.png", png((255, 0, 0))), ("broken.png", png((0, 0, 255)))]
    raw = crc_broken_zip(members, "broken.png")
    assert read_zip(raw).skipped == [("broken.png", Message("upload.skip.bad_member", {"kind": "BadZipFile"}))]
    found = read_zip(raw, limits=UploadLimits(images=1))  # past the cap it is not opened, so not found damaged
    assert found.skipped == [("broken.png", Message("upload.skip.over_limit", {"limit": 1}))]
    tiny = UploadLimits(tensor_bytes=1)  # not one image fits: one is still kept
    assert tiny.max_images(64, 3) == 1 and read_uploads([("a.png", png()), ("b.png", png())], limits=tiny).read == 1


def test_an_image_refusal_keeps_its_numbers_and_photos_are_decoded_small():
    found = read_uploads([("dot.png", png(size=(4, 3))), ("photo.png", png(size=(600, 400))),
                          ("small.png", png(size=(200, 100)))], size=32)
    assert found.skipped == [("dot.png", Message("image.too_small", {"width": 4, "height": 3, "min_side": 16}))]
    assert found.notes["image.note.downscaled"] == 1  # decoded at most 4 x 32 = 256 px (the 200 px one as it is)


class _Counted(io.BytesIO):
    """A member's stream that counts what it hands out."""
    handed = 0

    def read(self, n=-1):
        out = super().read(n)
        _Counted.handed += len(out)
        return out


def members_longer_than_declared(monkeypatch, extra: dict):
    """zipfile stops at a member's declared size; a reader that did not would hand out `extra[name]` bytes more."""
    real_open = zipfile.ZipFile.open

    def open_longer(self, info, *args, **kw):
        with real_open(self, info, *args, **kw) as f:
            data = f.read()
        return _Counted(data + bytes(extra.get(info.filename, 0)))

    monkeypatch.setattr(zipfile.ZipFile, "open", open_longer)
    _Counted.handed = 0


def test_a_member_longer_than_declared_is_read_only_to_the_cap(monkeypatch):
    small = png()
    cap = int(1.5 * MiB)
    raw = make_zip([("long.png", small), ("exact.png", small)])
    members_longer_than_declared(monkeypatch, {"long.png": 2 * MiB, "exact.png": cap - len(small)})
    found = read_zip(raw, limits=UploadLimits(file_bytes=cap))
    assert found.names == ["exact.png"]  # exactly at the cap: read (Pillow ignores what follows the picture)
    assert found.skipped == [("long.png", Message("upload.skip.too_large", {"limit_mb": 1}))]
    assert _Counted.handed == (cap + 1) + cap  # never more than the cap and one byte of a member


def test_bytes_actually_unpacked_count_against_the_total(monkeypatch):
    small = png()
    raw = make_zip([("a.png", small), ("b.png", small)])
    members_longer_than_declared(monkeypatch, {"a.png": MiB, "b.png": int(1.5 * MiB)})
    unpacked = 2 * len(small) + int(2.5 * MiB)
    assert read_zip(raw, limits=UploadLimits(total_bytes=unpacked)).read == 2  # at the cap: read
    e = refused(read_zip, raw, limits=UploadLimits(total_bytes=unpacked - 1))
    assert (e.code, e.params) == ("upload.too_large_unpacked", {"name": "b.png", "mb": 2, "limit_mb": 2})

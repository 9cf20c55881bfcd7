"""A person's own pictures, safely: a .zip (bytes or a path) or loose image files -> uint8 images in memory.

Why this much care: on a public server an upload is hostile until read. Nothing is ever extracted to
disk, so names with `..`, absolute paths and symlinks cannot write anywhere; they are still skipped
(with a reason), because an archive holding them was not made by hand for a class. The archive's
central directory is checked before anything is decompressed (entry count, declared sizes, ratio),
and every member is then read with a hard byte cap, since declared sizes can lie. Each image goes
through image_io.load_image (formats, decompression-bomb guard, EXIF rotation, CMYK, 16-bit,
palette and alpha fixes) and data.square_array (centre crop, size, grey or RGB): the same two steps
as a server folder (data.load_image_folder), so the rules are written once.

    found = read_uploads([("faces.zip", raw_bytes)], size=64, channels=3)
    found.images.shape        # (N, 64, 64, 3) uint8
    found.reasons()           # {"upload.skip.not_image": 3, "image.truncated": 1, ...}

Whole-archive problems (not a zip, too many entries, too large when unpacked, no images at all)
raise UploadError; one bad member is skipped and counted, never fatal.
"""
import io
import os
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from .data import IMAGE_EXTS, decode_side, square_array
from .image_io import MAX_BYTES, ImageLoadError, load_image
from .messages import GanError, Message

MiB = 2 ** 20
ARCHIVE_EXTS = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst", ".jar", ".cbz", ".cbr", ".lz", ".lzma"}
# Magic numbers of archives: a nested archive renamed to .png is still an archive.
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\xfd7zXZ",
                 b"\x28\xb5\x2f\xfd")
SYSTEM_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


class UploadError(GanError, ValueError):
    """The upload as a whole cannot be used (an "upload.*" code)."""


@dataclass(frozen=True)
class UploadLimits:
    """Caps for one upload (one session's data). The defaults fit the face exercise's 13,000 photos
    (a ~200 MB zip of 250x250 JPEGs) and hold a session's decoded images under ~600 MB as floats."""
    archive_bytes: int = 300 * MiB     # the .zip file itself
    total_bytes: int = 1024 * MiB      # all members unpacked: declared sizes first, then bytes actually read
    file_bytes: int = MAX_BYTES        # one member unpacked (image_io's own cap, 20 MiB)
    ratio: float = 100.0               # unpacked / packed, for members over ratio_from bytes (photos: about 1)
    ratio_from: int = 1 * MiB          # smaller members cannot hurt, and tiny files compress oddly
    members: int = 20_000              # entries in the archive (thousands of tiny files cost time, not bytes)
    images: int = 15_000               # images kept; the rest are skipped as over the limit
    tensor_bytes: int = 600 * MiB      # the images as float32 for training (size x size x channels x 4 each)

    def max_images(self, size: int, channels: int) -> int:
        return max(1, min(self.images, self.tensor_bytes // (size * size * channels * 4)))


@dataclass
class ReadImages:
    """What an upload gave: images, their names, what was skipped and why, what was fixed."""
    images: np.ndarray                      # uint8 (N, size, size) grey or (N, size, size, 3)
    names: list[str] = field(default_factory=list)
    skipped: list[tuple[str, Message]] = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)  # "image.note.*" code -> how many images it applied to

    @property
    def read(self) -> int:
        return len(self.names)

    def reasons(self) -> Counter:
        """Skip reason code -> count (the page shows these; `skipped` keeps one message per file)."""
        return Counter(m.code for _, m in self.skipped)


class _Reader:
    """Collects images across several files and archives, applying one set of caps."""

    def __init__(self, size: int, channels: int, limits: UploadLimits):
        self.size, self.channels, self.limits = size, channels, limits
        self.cap = limits.max_images(size, channels)
        self.arrays, self.names, self.skipped, self.notes = [], [], [], Counter()
        self.unpacked = 0  # bytes read out of archives so far

    def skip(self, name: str, code: str, **params) -> None:
        self.skipped.append((name, Message(code, params)))

    def add_image(self, name: str, data: bytes) -> None:
        """One file's bytes: decoded, fixed and squared, or skipped with the reason."""
        if len(self.arrays) >= self.cap:
            return self.skip(name, "upload.skip.over_limit", limit=self.cap)
        if data.startswith(ARCHIVE_MAGIC):
            return self.skip(name, "upload.skip.nested_archive")
        try:
            loaded = load_image(data, max_side=decode_side(self.size))
        except ImageLoadError as e:
            return self.skip(name, e.code, **e.params)
        self.arrays.append(square_array(loaded.image, self.size, self.channels))
        self.names.append(name)
        self.notes.update(n.code for n in loaded.notes)

    def add_file(self, name: str, data: bytes) -> None:
        """A loose uploaded file: a zip is opened as an archive, anything else is read as an image."""
        reason = _name_problem(name, archive_ok=True)
        if reason:
            return self.skip(name, reason)
        if Path(name).suffix.lower() == ".zip" or data.startswith(b"PK\x03\x04"):
            return self.add_zip(data, name)
        self.add_image(name, data)

    def add_zip(self, source, label: str) -> None:
        """Every member of one archive, checked from its central directory before any byte is unpacked."""
        zf = _open_zip(source, self.limits, label)
        with zf:
            infos = zf.infolist()
            if len(infos) > self.limits.members:
                raise UploadError("upload.too_many_files", name=label, count=len(infos), limit=self.limits.members)
            declared = sum(i.file_size for i in infos)
            if self.unpacked + declared > self.limits.total_bytes:
                raise UploadError("upload.too_large_unpacked", name=label, mb=declared // MiB,
                                  limit_mb=self.limits.total_bytes // MiB)
            for info in infos:
                if not info.is_dir():
                    self._member(zf, info)

    def _member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        name, lim = info.filename, self.limits
        code = _name_problem(name)
        code, params = (code, {}) if code else _member_problem(info, lim)
        if code:
            return self.skip(name, code, **params)
        if len(self.arrays) >= self.cap:  # do not even unpack what would be dropped
            return self.skip(name, "upload.skip.over_limit", limit=self.cap)
        try:
            with zf.open(info) as f:
                data = f.read(lim.file_bytes + 1)  # never trust the declared size
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as e:
            return self.skip(name, "upload.skip.bad_member", kind=type(e).__name__)
        self.unpacked += len(data)
        if len(data) > lim.file_bytes:
            return self.skip(name, "upload.skip.too_large", limit_mb=lim.file_bytes // MiB)
        if self.unpacked > lim.total_bytes:
            raise UploadError("upload.too_large_unpacked", name=name, mb=self.unpacked // MiB,
                              limit_mb=lim.total_bytes // MiB)
        self.add_image(name, data)

    def result(self) -> ReadImages:
        """What was read, or UploadError when nothing was: an upload with no picture is no data set."""
        if not self.arrays:
            raise UploadError("upload.no_images", skipped=len(self.skipped))
        return ReadImages(np.stack(self.arrays), self.names, self.skipped, self.notes)


def _open_zip(source, limits: UploadLimits, label: str) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray, memoryview)):
        size, handle = len(source), io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise UploadError("upload.no_such_file", path=str(path))
        size, handle = path.stat().st_size, path
    else:
        raise UploadError("upload.bad_source", kind=type(source).__name__)
    if size > limits.archive_bytes:
        raise UploadError("upload.archive_too_large", name=label, mb=size // MiB, limit_mb=limits.archive_bytes // MiB)
    try:
        return zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise UploadError("upload.not_zip", name=label) from None


def _name_problem(name: str, archive_ok: bool = False) -> str | None:
    """Why a file name is not read (a skip code), or None. Archives are refused inside archives only."""
    posix, win = PurePosixPath(name), PureWindowsPath(name)
    if win.drive or win.root or ".." in win.parts:  # Windows paths split on "/" too: "/etc", "C:x", "a/../b", "..\\b"
        return "upload.skip.unsafe_name"
    base = posix.name.lower()
    if "__macosx" in (p.lower() for p in posix.parts) or base.startswith("._") or base in SYSTEM_NAMES:
        return "upload.skip.system_file"
    suffix = posix.suffix.lower()
    if archive_ok and suffix == ".zip":
        return None
    if suffix in ARCHIVE_EXTS:
        return "upload.skip.nested_archive"
    if suffix not in IMAGE_EXTS:
        return "upload.skip.not_image"
    return None


def _member_problem(info: zipfile.ZipInfo, limits: UploadLimits) -> tuple[str | None, dict]:
    """(skip code, its params) for an archive member, from its directory entry alone; (None, {}) if fine."""
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "upload.skip.symlink", {}
    if info.flag_bits & 0x1:
        return "upload.skip.encrypted", {}
    if info.file_size > limits.file_bytes:
        return "upload.skip.too_large", {"limit_mb": limits.file_bytes // MiB}
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_from and ratio > limits.ratio:
        return "upload.skip.ratio", {"ratio": int(ratio), "limit": int(limits.ratio)}
    return None, {}


def read_uploads(files, size: int = 64, channels: int = 3, limits: UploadLimits | None = None) -> ReadImages:
    """Uploaded files as (name, bytes) pairs (zips and images mixed) -> ReadImages, or UploadError."""
    reader = _Reader(size, channels, limits or UploadLimits())
    for name, data in files:
        reader.add_file(name, bytes(data))
    return reader.result()


def read_zip(source, size: int = 64, channels: int = 3, limits: UploadLimits | None = None) -> ReadImages:
    """A .zip as bytes or a path (the CLI's `--data faces.zip`) -> ReadImages, or UploadError."""
    reader = _Reader(size, channels, limits or UploadLimits())
    reader.add_zip(source, Path(source).name if isinstance(source, (str, os.PathLike)) else "upload.zip")
    return reader.result()

"""What an AppTest page put in Streamlit's media store: image bytes by URL, download data by file name.

AppTest builds a fresh MediaFileManager for every run and drops it afterwards, so a test sees only
the URLs of images and no download data at all. record_media(monkeypatch) swaps in a subclass that
keeps a copy of everything the page adds: the bytes behind each image URL (`images[url]`, PNG/JPEG
as the page sent them), the static data of each download button and the callable of each deferred
one (`downloads[file_name]`: bytes, or the page's own zero-argument callable, which `download()`
calls just as the browser's click would). The newest run wins for a name.
"""
import io

import numpy as np
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import app_test


class MediaRecord:
    def __init__(self):
        self.images: dict[str, bytes] = {}
        self.downloads: dict[str, object] = {}

    def download(self, file_name: str) -> bytes:
        """The bytes the download button named file_name gives (a deferred callable is called now)."""
        data = self.downloads[file_name]
        data = data() if callable(data) else data
        return data.encode() if isinstance(data, str) else bytes(data)

    def pixels(self, url: str) -> np.ndarray:
        """The image behind an st.image URL as a numpy array."""
        return np.asarray(Image.open(io.BytesIO(self.images[url])))


def record_media(monkeypatch) -> MediaRecord:
    record = MediaRecord()

    class RecordingMediaFileManager(MediaFileManager):
        def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
            url = super().add(path_or_data, mimetype, coordinates, file_name, is_for_static_download)
            if is_for_static_download and file_name:
                record.downloads[file_name] = path_or_data
            elif isinstance(path_or_data, bytes):
                record.images[url] = path_or_data
            return url

        def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
            record.downloads[file_name] = data_callable
            return super().add_deferred(data_callable, mimetype, coordinates, file_name, element_id=element_id)

    monkeypatch.setattr(app_test, "MediaFileManager", RecordingMediaFileManager)
    return record

"""The derived-image store: .pipeline/images/<key>-<check>.<ext>, where `key` names what the file
was made from (the source's content hash, the Variant and the derivation's version) and `check`
is the start of the file's own sha256. A file whose bytes do not match its check is a miss: it is
made again, never published. Files are written whole (temp file + os.replace)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CHECK = 16   # hex digits of the file's sha256 in its name


class ImageStore:
    def __init__(self, folder: Path | None):
        """`folder` None: nothing is kept between builds."""
        self.folder = folder
        self.names: dict[str, str] = {}   # key -> file name
        self.memory: dict[str, bytes] = {}
        if folder is not None and folder.is_dir():
            for name in os.listdir(folder):
                stem = name.split(".", 1)[0]
                if len(stem) > CHECK + 1 and stem[-CHECK - 1] == "-" and not name.startswith("."):
                    self.names[stem[:-CHECK - 1]] = name

    def has(self, key: str) -> bool:
        return key in self.names or key in self.memory

    def read(self, key: str) -> bytes | None:
        """The stored bytes, or None when absent or damaged (then forgotten)."""
        if key in self.memory:
            return self.memory[key]
        name = self.names.get(key)
        if name is None:
            return None
        try:
            data = (self.folder / name).read_bytes()
        except OSError:
            data = None
        if data is None or hashlib.sha256(data).hexdigest()[:CHECK] != name.split(".", 1)[0][-CHECK:]:
            del self.names[key]
            return None
        return data

    def put(self, key: str, ext: str, data: bytes) -> None:
        if self.folder is None:
            self.memory[key] = data
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{key}-{hashlib.sha256(data).hexdigest()[:CHECK]}.{ext}"
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, self.folder / name)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        old = self.names.get(key)
        if old is not None and old != name:
            try:
                os.unlink(self.folder / old)
            except OSError:
                pass
        self.names[key] = name

    def prune(self, keep: set[str]) -> None:
        """Delete the stored files of every other key (a photo replaced or no longer published).
        A file deleted under another build that listed it is a miss there: made again."""
        for key in [key for key in self.names if key not in keep]:
            try:
                os.unlink(self.folder / self.names.pop(key))
            except OSError:
                pass

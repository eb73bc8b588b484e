"""A zip archive made while it is sent: zipfile writes into a sink emptied after every chunk,
so memory holds one chunk, never the archive. No Django. On a stream it cannot seek in,
zipfile writes each entry's sizes after its data (a data descriptor), which unzip tools read."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 64 * 1024


class _Sink:
    """Write-only and not seekable: zipfile sees a stream, and we take what it wrote."""

    def __init__(self):
        self.pending = bytearray()
        self._offset = 0

    def write(self, data) -> int:
        self.pending += data
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self.pending)
        self.pending.clear()
        return out


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    open: Callable[[], BinaryIO] | None = None  # a file to copy in chunks
    data: bytes | None = None  # or small contents given whole (a manifest)
    modified: dt.datetime | None = None
    compress: bool = False


def zip_stream(entries: Iterable[Entry], *, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Yield the bytes of a zip of `entries`, a chunk at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for entry in entries:
            when = (entry.modified or dt.datetime.now()).timetuple()[:6]
            info = zipfile.ZipInfo(entry.name, date_time=max(when, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED if entry.compress else zipfile.ZIP_STORED
            info.file_size = entry.size  # so that zipfile picks ZIP64 for a large file
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=entry.size > zipfile.ZIP64_LIMIT // 2) as out:
                if entry.data is not None:
                    out.write(entry.data)
                else:
                    with entry.open() as source:
                        while block := source.read(chunk_size):
                            out.write(block)
                            if len(sink.pending) >= chunk_size:
                                yield sink.take()
            if sink.pending:
                yield sink.take()
    yield sink.take()  # the central directory, written on close

"""MP4 files read and retagged box by box, without demuxing: for large generated videos.

Plain Python, no Django, no PyAV. `parse` reads a file's top-level boxes and its index
(the moov box, small beside the media) and checks that every chunk of media the index
points at is really in the file; `tagged_copy` makes the file again, index first
(faststart), with a metadata box as FFmpeg's MP4 muxer writes it under
`movflags=use_metadata_tags`: written, its media data is copied in the kernel
(`os.copy_file_range`), without passing through Python; read (an upload), it comes from
the source file itself.

Only the simple layout generators and FFmpeg produce is handled: one ftyp first, one moov,
media in mdat boxes, free space. Anything else (fragmented MP4, QuickTime without ftyp,
32-bit chunk offsets that would overflow) raises `Unsupported`, and callers fall back to a
full remux.
"""

from __future__ import annotations

import io
import itertools
import os
import struct
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

# Top-level boxes a plain MP4 may have besides ftyp, moov and mdat.
_SPACE = {b"free", b"skip", b"wide"}
# moov children we keep as they are; udta is replaced, anything else (mvex: fragments,
# meta beside udta, compressed cmov...) is not handled here.
_MOOV_KEPT = {b"mvhd", b"trak", b"iods"}
_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl", b"edts"}
# More samples in a track than this (hours of video) are left to the remux, which streams:
# the tables read here are held as Python lists.
_MAX_SAMPLES = 2_000_000
_MAX_MOOV_BYTES = 64 * 1024 * 1024
_HASH_BUFFER_BYTES = 1024 * 1024


class Unsupported(Exception):
    """A layout this module does not handle: use the full remux instead."""


class Incomplete(Exception):
    """The file is cut short: its index points at media that is not there."""


@dataclass
class Track:
    handler: bytes = b""
    timescale: int = 0
    sample_sizes: list[int] = field(default_factory=list)
    chunk_offsets: list[int] = field(default_factory=list)
    samples_per_chunk: list[tuple[int, int]] = field(default_factory=list)  # (first chunk, n)
    deltas: list[tuple[int, int]] = field(default_factory=list)  # stts (count, delta)
    composition: list[tuple[int, int]] = field(default_factory=list)  # ctts (count, offset)
    edits: list[tuple[int, int, int]] = field(default_factory=list)  # (duration, time, rate)
    offset_boxes: list[tuple[int, bool]] = field(default_factory=list)  # moov pos, is co64

    def pts_range(self) -> tuple[int, int] | None:
        """(first pts, last pts + its duration) in the track's time scale, as FFmpeg's
        demuxer reports its packets (dts from stts plus the ctts offset)."""
        first = end = None
        dts = 0
        samples = len(self.sample_sizes)
        if (
            sum(c for c, _ in self.deltas) != samples
            or sum(c for c, _ in self.composition) > samples
        ):
            return None
        composition = _expand(self.composition)
        index = 0
        for count, delta in self.deltas:
            for _ in range(count):
                pts = dts + (composition[index] if index < len(composition) else 0)
                first = pts if first is None else min(first, pts)
                end = pts + delta if end is None else max(end, pts + delta)
                dts += delta
                index += 1
        if first is None or index != len(self.sample_sizes):
            return None
        return first, end

    def seconds(self) -> float | None:
        span = self.pts_range()
        if span is None or not self.timescale:
            return None
        return float(Fraction(span[1] - span[0], self.timescale))


def _expand(runs: list[tuple[int, int]]) -> list[int]:
    out: list[int] = []
    for count, value in runs:
        out.extend([value] * count)
    return out


@dataclass
class Layout:
    size: int
    boxes: list[tuple[bytes, int, int]]  # (type, start, size), in file order
    moov: bytes
    tracks: list[Track]
    udta: tuple[int, int] | None  # (start, size) inside moov
    movie_timescale: int

    def media_ranges(self) -> list[tuple[int, int]]:
        return [(start, start + size) for kind, start, size in self.boxes if kind == b"mdat"]


def _box_header(data: bytes | memoryview, pos: int, end: int) -> tuple[bytes, int, int]:
    """(type, header size, box size) of the box at `pos`."""
    if pos + 8 > end:
        raise Unsupported("a box header runs past its parent")
    size, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if size == 1:
        if pos + 16 > end:
            raise Unsupported("a box header runs past its parent")
        (size,) = struct.unpack_from(">Q", data, pos + 8)
        header = 16
    elif size == 0:
        size = end - pos
    if size < header or pos + size > end:
        raise Unsupported(f"box {kind!r} runs past its parent")
    return kind, header, size


def parse(path: Path) -> Layout:
    """The top-level boxes and the index of the MP4 at `path`.

    Raises Incomplete when the file ends inside a box or the index points at media past
    the media data, Unsupported for layouts not handled here.
    """
    size = path.stat().st_size
    boxes = []
    moov = None
    with path.open("rb") as file:
        pos = 0
        while pos < size:
            file.seek(pos)
            head = file.read(16)
            if len(head) < 8:
                raise Incomplete("the file ends inside a box header")
            (box_size, kind) = struct.unpack_from(">I4s", head)
            header = 8
            if box_size == 1:
                if len(head) < 16:
                    raise Incomplete("the file ends inside a box header")
                (box_size,) = struct.unpack_from(">Q", head, 8)
                header = 16
            elif box_size == 0:
                raise Unsupported("a box running to the end of the file")
            if box_size < header:
                raise Unsupported(f"box {kind!r} has an impossible size")
            if pos + box_size > size:
                raise Incomplete(f"the {kind.decode('latin-1')} box is cut short")
            if kind == b"moov":
                if moov is not None or header != 8 or box_size > _MAX_MOOV_BYTES:
                    raise Unsupported("several or large moov boxes")
                file.seek(pos)
                moov = file.read(box_size)
            elif kind not in _SPACE and kind not in (b"ftyp", b"mdat"):
                raise Unsupported(f"top-level box {kind!r}")
            boxes.append((kind, pos, box_size))
            pos += box_size
    if not boxes or boxes[0][0] != b"ftyp" or [b[0] for b in boxes].count(b"ftyp") != 1:
        raise Unsupported("no ftyp box first")
    if moov is None or not any(kind == b"mdat" for kind, _, _ in boxes):
        raise Unsupported("no moov or no mdat box")
    try:
        tracks, udta, timescale = _parse_moov(moov)
        layout = Layout(
            size=size, boxes=boxes, moov=moov, tracks=tracks, udta=udta, movie_timescale=timescale
        )
        _check_chunks(layout)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        # A damaged index: FFmpeg's remux gives the error a reader can act on.
        raise Unsupported(f"an index that cannot be read: {exc}") from None
    return layout


def _parse_moov(moov: bytes) -> tuple[list[Track], tuple[int, int] | None, int]:
    tracks = []
    udta = None
    timescale = 0
    pos, end = 8, len(moov)
    while pos < end:
        kind, header, size = _box_header(moov, pos, end)
        if kind == b"trak":
            track = Track()
            _parse_track(moov, pos + header, pos + size, track)
            tracks.append(track)
        elif kind == b"mvhd":
            version = moov[pos + header]
            offset = pos + header + (20 if version else 12)
            timescale = struct.unpack_from(">I", moov, offset)[0]
        elif kind == b"udta":
            if udta is not None:
                raise Unsupported("several udta boxes")
            udta = (pos, size)
        elif kind not in _MOOV_KEPT:
            raise Unsupported(f"moov child {kind!r}")
        pos += size
    if not tracks or not timescale:
        raise Unsupported("no tracks or no movie time scale")
    return tracks, udta, timescale


def _parse_track(moov: bytes, pos: int, end: int, track: Track) -> None:
    while pos < end:
        kind, header, size = _box_header(moov, pos, end)
        body = pos + header
        if kind in _CONTAINERS:
            _parse_track(moov, body, pos + size, track)
        elif kind == b"mdhd":
            version = moov[body]
            track.timescale = struct.unpack_from(">I", moov, body + (20 if version else 12))[0]
        elif kind == b"hdlr":
            track.handler = moov[body + 8 : body + 12]
        elif kind == b"elst":
            version = moov[body]
            (count,) = struct.unpack_from(">I", moov, body + 4)
            fmt = ">QqhH" if version else ">IihH"
            step = struct.calcsize(fmt)
            track.edits = [
                struct.unpack_from(fmt, moov, body + 8 + i * step)[:3] for i in range(count)
            ]
        elif kind == b"stsz":
            uniform, count = struct.unpack_from(">II", moov, body + 4)
            if count > _MAX_SAMPLES:
                raise Unsupported("too many samples")
            if uniform:
                track.sample_sizes = [uniform] * count
            else:
                track.sample_sizes = _uint32s(moov, body + 12, count)
        elif kind == b"stz2":
            raise Unsupported("compact sample sizes")
        elif kind in (b"stco", b"co64"):
            (count,) = struct.unpack_from(">I", moov, body + 4)
            if kind == b"stco":
                track.chunk_offsets = _uint32s(moov, body + 8, count)
            else:
                track.chunk_offsets = list(struct.unpack_from(f">{count}Q", moov, body + 8))
            track.offset_boxes.append((pos, kind == b"co64"))
        elif kind == b"stsc":
            (count,) = struct.unpack_from(">I", moov, body + 4)
            values = _uint32s(moov, body + 8, count * 3)
            if any(index != 1 for index in values[2::3]):
                # Several sample descriptions (a change of codec settings mid-stream).
                raise Unsupported("chunks described by other than the first sample entry")
            track.samples_per_chunk = [(values[i], values[i + 1]) for i in range(0, len(values), 3)]
        elif kind == b"stts":
            (count,) = struct.unpack_from(">I", moov, body + 4)
            values = _uint32s(moov, body + 8, count * 2)
            track.deltas = list(zip(values[::2], values[1::2], strict=True))
        elif kind == b"ctts":
            version = moov[body]
            (count,) = struct.unpack_from(">I", moov, body + 4)
            values = struct.unpack_from(f">{count * 2}{'i' if version else 'I'}", moov, body + 8)
            track.composition = list(zip(values[::2], values[1::2], strict=True))
        pos += size


def _uint32s(data: bytes, pos: int, count: int) -> list[int]:
    if pos + 4 * count > len(data):
        raise Unsupported("a table runs past its box")
    values = array("I", data[pos : pos + 4 * count])
    if array("I").itemsize != 4:
        raise Unsupported("no 32-bit array type")
    if struct.pack("=I", 1) != struct.pack(">I", 1):
        values.byteswap()
    return values.tolist()


def _check_chunks(layout: Layout) -> None:
    """Every chunk the index points at lies whole inside one mdat box's payload."""
    media = [(start + 8, end) for start, end in layout.media_ranges()]
    for track in layout.tracks:
        if len(track.offset_boxes) != 1 or not track.samples_per_chunk:
            raise Unsupported("a track without exactly one chunk offset table")
        runs = track.samples_per_chunk
        if runs[0][0] != 1 or any(a[0] >= b[0] for a, b in itertools.pairwise(runs)):
            raise Unsupported("a sample-to-chunk table out of order")
        run = 0
        sample = 0
        sizes = track.sample_sizes
        for number, offset in enumerate(track.chunk_offsets, start=1):
            while run + 1 < len(runs) and runs[run + 1][0] <= number:
                run += 1
            count = runs[run][1]
            chunk_end = offset + sum(sizes[sample : sample + count])
            sample += count
            if not any(start <= offset and chunk_end <= end for start, end in media):
                raise Incomplete("the index points at media past the end of the file")
        if sample != len(sizes):
            raise Unsupported("chunk and sample tables disagree")


# -- writing ---------------------------------------------------------------------------------


def metadata_box(tags: dict[str, str]) -> bytes:
    """A udta box holding `tags` as FFmpeg's MP4 muxer writes them with use_metadata_tags:
    a meta box with an 'mdta' handler, a keys box and an ilst of UTF-8 values."""
    handler = _box(b"hdlr", bytes(4) + bytes(4) + b"mdta" + bytes(12) + b"\0")
    keys = b"".join(
        struct.pack(">I", 8 + len(k)) + b"mdta" + k for k in (key.encode() for key in tags)
    )
    keys_box = _box(b"keys", bytes(4) + struct.pack(">I", len(tags)) + keys)
    items = b"".join(
        _box(struct.pack(">I", index), _box(b"data", struct.pack(">II", 1, 0) + value.encode()))
        for index, value in enumerate(tags.values(), start=1)
    )
    meta = _box(b"meta", bytes(4) + handler + keys_box + _box(b"ilst", items))
    return _box(b"udta", meta)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


@dataclass(frozen=True)
class TaggedCopy:
    """A file made from `src` (by `tagged_copy`), before it is written anywhere: `header`
    (ftyp and the new moov), then the byte ranges `ranges` ([start, end) pairs) of `src`. It can be
    written to a file (`write`) or read as one (`open`) from `src` itself, so that a copy
    sent elsewhere (an upload) never needs a file of its own."""

    src: Path
    header: bytes
    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def whole(cls, path: Path) -> TaggedCopy:
        """A file as it is."""
        return cls(path, b"", ((0, path.stat().st_size),))

    @property
    def size(self) -> int:
        return len(self.header) + sum(end - start for start, end in self.ranges)

    def write(self, dest: Path) -> None:
        # Opened without O_TRUNC: `dest` is usually a fresh, empty temporary file, and ext4
        # flushes a file truncated to nothing to disk as soon as it is closed
        # (auto_da_alloc, for editors that rewrite files in place), which here would cost
        # a third of the copy.
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT, 0o666)
        with self.src.open("rb") as source, open(fd, "wb") as out:
            out.write(self.header)
            out.flush()
            written = len(self.header)
            for start, end in self.ranges:
                _copy_range(source.fileno(), out.fileno(), start, end - start, written)
                written += end - start
            if os.fstat(out.fileno()).st_size > written:  # it held something longer before
                os.ftruncate(out.fileno(), written)

    def open(self) -> io.BufferedReader:
        """The copy's bytes as a read-only, seekable file (reading `src` as it goes)."""
        return io.BufferedReader(_CopyReader(self), buffer_size=_HASH_BUFFER_BYTES)

    def hashed_while(self, digest, work: Callable[[], None]) -> None:
        """Run `work` (writing or sending the copy) while a second thread feeds `digest`
        (a hashlib object, or None for no checksum) the copy's bytes, from the same pages
        of `src`: hashing (0.1 s for 100 MB) overlaps the copy instead of following it."""
        if digest is None:
            work()
            return
        digest.update(self.header)
        with ThreadPoolExecutor(max_workers=1) as pool:  # waits for the hashing in any case
            hashed = pool.submit(feed, digest, self.src, self.ranges)
            work()
            hashed.result()


class _CopyReader(io.RawIOBase):
    """TaggedCopy.open's raw file: each read maps onto the header or a range of `src`."""

    def __init__(self, copy: TaggedCopy):
        self._copy = copy
        self._fd = os.open(copy.src, os.O_RDONLY)
        self._position = 0
        # Where each piece starts in the copy: the header, then each range.
        self._pieces = []  # (start in the copy, end in the copy, offset in src or None)
        at = len(copy.header)
        if copy.header:
            self._pieces.append((0, at, None))
        for start, end in copy.ranges:
            self._pieces.append((at, at + end - start, start))
            at += end - start
        self._size = at

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        for first, end, src_offset in self._pieces:
            if first <= self._position < end:
                want = min(len(view), end - self._position)
                if src_offset is None:
                    got = self._copy.header[self._position : self._position + want]
                    view[: len(got)] = got
                    done = len(got)
                else:
                    done = os.preadv(self._fd, [view[:want]], src_offset + self._position - first)
                    if done == 0:
                        raise Incomplete("the file ended while it was being read")
                self._position += done
                return done
        return 0  # at or past the end

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def tagged_copy(src: Path, layout: Layout, udta: bytes) -> TaggedCopy:
    """`src` as ftyp, a moov whose udta is `udta`, then the other boxes in their order, with
    the chunk offsets moved to match. Raises Unsupported (before anything is written or
    hashed) when the offsets would not fit."""
    moov = bytearray(layout.moov)
    if layout.udta is not None:
        start, size = layout.udta
        # Offsets of boxes after udta in moov move; recorded offsets are only of stco/co64
        # boxes, so patch those (by their position before the cut) first.
        removed = (start, size)
    else:
        removed = None
    new_moov_size = len(moov) - (removed[1] if removed else 0) + len(udta)
    if new_moov_size >= 2**32:
        raise Unsupported("moov too large")
    ftyp = next(b for b in layout.boxes if b[0] == b"ftyp")
    rest = [b for b in layout.boxes if b[0] not in (b"ftyp", b"moov")]
    position = ftyp[2] + new_moov_size
    shifts = []  # (old start, old end, shift) of each box after the new moov
    for _kind, start, size in rest:
        shifts.append((start, start + size, position - start))
        position += size
    for track in layout.tracks:
        (box, is_co64) = track.offset_boxes[0]
        moved = []
        for offset in track.chunk_offsets:
            shift = next(s for start, end, s in shifts if start <= offset < end)
            moved.append(offset + shift)
        if not is_co64 and moved and max(moved) >= 2**32:
            raise Unsupported("chunk offsets would overflow stco")
        fmt = f">{len(moved)}{'Q' if is_co64 else 'I'}"
        struct.pack_into(fmt, moov, box + 16, *moved)
    if removed:
        del moov[removed[0] : removed[0] + removed[1]]
    moov += udta
    struct.pack_into(">I", moov, 0, len(moov))
    with src.open("rb") as source:
        source.seek(ftyp[1])
        header = source.read(ftyp[2]) + moov
    # The other boxes; adjacent ones as one range.
    ranges: list[list[int]] = []
    for _kind, start, size in rest:
        if ranges and ranges[-1][1] == start:
            ranges[-1][1] = start + size
        else:
            ranges.append([start, start + size])
    return TaggedCopy(src, bytes(header), tuple((start, end) for start, end in ranges))


def feed(digest, path: Path, ranges=None) -> None:
    """Feed `digest` the bytes of `path` in `ranges` ([start, end) pairs; the whole file
    by default), through one small buffer: memory stays flat however large the file."""
    buffer = bytearray(_HASH_BUFFER_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as file:
        for start, end in ranges or [(0, os.fstat(file.fileno()).st_size)]:
            file.seek(start)
            left = end - start
            while left > 0:
                got = file.readinto(view[: min(left, len(buffer))])
                if not got:
                    raise Incomplete("the file ended while it was being read")
                digest.update(view[:got])
                left -= got


def _copy_range(src_fd: int, dest_fd: int, offset: int, count: int, dest_offset: int) -> None:
    copy = getattr(os, "copy_file_range", None)
    while count > 0:
        try:
            if copy is None:
                raise OSError("no copy_file_range")
            done = copy(src_fd, dest_fd, count, offset, dest_offset)
        except OSError:
            # Not supported between these files: copy through a buffer.
            done = len(_pread_pwrite(src_fd, dest_fd, min(count, 1 << 20), offset, dest_offset))
        if done == 0:
            raise Incomplete("the file ended while it was being copied")
        offset += done
        dest_offset += done
        count -= done


def _pread_pwrite(src_fd: int, dest_fd: int, count: int, offset: int, dest_offset: int) -> bytes:
    data = os.pread(src_fd, count, offset)
    written = 0
    while written < len(data):
        written += os.pwrite(dest_fd, data[written:], dest_offset + written)
    return data

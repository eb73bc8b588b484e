"""Posters of videos, and provenance tags written into them by remuxing: packets copied, never
re-encoded, into an MP4 with the index first, so a browser can play before the file is whole."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from generations.media.checks import describe
from generations.media.convert import write_into_place
from generations.media.probing import (
    UNREADABLE,
    MediaError,
    MediaInfo,
    StrPath,
    declared_seconds,
    open_undecoded,
    probe,
    video_stream,
)

# Small enough for a page full of posters, without visible blocking on smooth gradients.
_POSTER_JPEG_QUALITY = 82
# The most compressed video decoded from the keyframe to the wanted frame: generated video
# gets the exact frame, lossless footage one this far from its keyframe instead.
_POSTER_DECODE_BUDGET_BYTES = 8 * 1024 * 1024

# Without use_metadata_tags the MP4 muxer keeps only the iTunes tags it knows and silently
# drops every other key.
_MOVFLAGS = "+faststart+use_metadata_tags"
# Tags the MP4 muxer writes itself from the file it makes, whatever the metadata says.
_MUXER_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})


def poster_frame(
    video_path: StrPath, dest: StrPath, *, at_seconds: float = 1.0, max_width: int = 640
) -> tuple[int, int]:
    """Save the frame at `at_seconds` (the middle one of a shorter video), at most `max_width`
    wide, as a JPEG at `dest`; return its (width, height)."""
    if max_width < 1:
        raise ValueError("max_width must be at least 1")
    if at_seconds < 0:
        raise ValueError("at_seconds cannot be negative")
    try:
        with open_undecoded(video_path) as container:
            frame, display_width = _frame_at(container, at_seconds)
            width = min(max_width, display_width)
            height = max(1, round(frame.height * width / display_width))
            # FFmpeg converts to RGB and scales in one go, on the frame's own planes:
            # several times faster than converting at full size and resizing with Pillow.
            picture = frame.reformat(
                width=width, height=height, format="rgb24", interpolation="LANCZOS"
            ).to_image()
    except FileNotFoundError:
        raise  # the caller's mistake, not a damaged video
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None

    def write(tmp: Path) -> None:
        picture.save(tmp, "JPEG", quality=_POSTER_JPEG_QUALITY, optimize=True)

    write_into_place(dest, write)
    return width, height


def _frame_at(container, at_seconds: float) -> tuple[av.VideoFrame, int]:
    """The frame nearest `at_seconds`, and the width it is displayed at."""
    stream = video_stream(container)
    if stream is None:
        raise MediaError("this file has no video to take a poster frame from")
    if stream.duration:
        duration = float(stream.duration * stream.time_base)
    else:
        duration = declared_seconds(container)
    if duration is not None and at_seconds >= duration:
        at_seconds = duration / 2
    target = (stream.start_time or 0) + round(at_seconds / stream.time_base)

    # Seeking lands on the keyframe at or before the target; frames can only be decoded
    # from a keyframe on, so decoding forward from there is the least work that will do.
    container.seek(target, stream=stream)
    chosen = None
    decoded_bytes = 0
    reached = False
    for packet in container.demux(stream):
        decoded_bytes += packet.size
        if chosen is not None and decoded_bytes > _POSTER_DECODE_BUDGET_BYTES:
            break  # the budget is spent: the last frame decoded will do
        for frame in packet.decode():  # the empty packet at the end drains the decoder
            if frame.pts >= target:
                if chosen is None or frame.pts - target < target - chosen.pts:
                    chosen = frame
                reached = True
                break
            chosen = frame
        if reached:
            break
    if chosen is None:
        raise MediaError("this video could not be decoded: it may be truncated or corrupt")

    # Pixels are not square in some videos (anamorphic DVD rips, some phone footage).
    aspect = stream.sample_aspect_ratio or 1
    return chosen, max(1, round(chosen.width * aspect))


def sprite_strip(
    video_path: StrPath, dest: StrPath, *, frames: int = 10, max_side: int = 320
) -> tuple[int, int, int]:
    """Save `frames` frames spread evenly over the video, side by side in one JPEG at `dest`
    (a card's hover preview: the page shows one at a time by moving the background), each at
    the video's displayed shape with its longer side at most `max_side`; return (frame width,
    frame height, frames). The video is decoded once from the start: generated videos have
    few keyframes, so seeking for each frame would decode the same stretch again and again."""
    if frames < 1:
        raise ValueError("frames must be at least 1")
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    pictures = []
    try:
        with open_undecoded(video_path) as container:
            stream = video_stream(container)
            if stream is None:
                raise MediaError("this file has no video to take frames from")
            seconds = _video_seconds(container, stream)
            stream.thread_type = "AUTO"
            aspect = stream.sample_aspect_ratio or 1
            for frame in _evenly_spread(container, stream, frames, seconds):
                if not pictures:
                    display_width = max(1, round(frame.width * aspect))
                    scale = min(1.0, max_side / max(display_width, frame.height))
                    width = max(1, round(display_width * scale))
                    height = max(1, round(frame.height * scale))
                # Each frame is made small as it is chosen, so that only small pictures are
                # kept while the rest of the video decodes.
                pictures.append(
                    frame.reformat(
                        width=width, height=height, format="rgb24", interpolation="AREA"
                    ).to_image()
                )
    except FileNotFoundError:
        raise
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None
    if not pictures:
        raise MediaError("this video could not be decoded: it may be truncated or corrupt")
    pictures += [pictures[-1]] * (frames - len(pictures))  # its length was declared too long

    strip = Image.new("RGB", (width * frames, height))
    for index, picture in enumerate(pictures):
        strip.paste(picture, (index * width, 0))

    def write(tmp: Path) -> None:
        strip.save(tmp, "JPEG", quality=_POSTER_JPEG_QUALITY, optimize=True)

    write_into_place(dest, write)
    return width, height, frames


def _video_seconds(container, stream) -> float:
    """How long the video stream lasts: as declared, else measured from its packets' times
    (no frame decoded), the file then read again from its start."""
    if stream.duration:
        return float(stream.duration * stream.time_base)
    declared = declared_seconds(container)
    if declared is not None:
        return declared
    start = stream.start_time or 0
    end = start
    for packet in container.demux(stream):
        if packet.pts is not None:
            end = max(end, packet.pts + (packet.duration or 0))
    container.seek(0)
    return float((end - start) * stream.time_base)


def _evenly_spread(container, stream, count: int, seconds: float):
    """Yield the frames nearest the middles of `count` equal parts of the video's `seconds`
    (one frame twice when the video has fewer frames than parts), in order."""
    start = stream.start_time or 0
    given, previous = 0, None
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        at = float((frame.pts - start) * stream.time_base)
        while given < count and at >= seconds * (given + 0.5) / count:
            target = seconds * (given + 0.5) / count
            before = previous is not None and target - previous[0] < at - target
            yield previous[1] if before else frame
            given += 1
        if given == count:
            return
        previous = (at, frame)
    if previous is not None and given < count:
        yield previous[1]  # the last frame, for the parts past the end (the caller repeats it)


def still_frame(
    video_path: StrPath, dest: StrPath, *, last: bool = False, at_seconds: float | None = None
) -> None:
    """Save the video's first frame (its last, or the one at `at_seconds`) at its full size,
    as a high-quality JPEG at `dest`: an image an image-to-video request may start or end on."""
    try:
        with open_undecoded(video_path) as container:
            stream = video_stream(container)
            if stream is None:
                raise MediaError("this file has no video to take a frame from")
            if at_seconds is not None:
                chosen, _ = _frame_at(container, max(0.0, at_seconds))
            else:
                chosen = _first_or_last(container, stream, last=last)
            aspect = stream.sample_aspect_ratio or 1
            width = max(1, round(chosen.width * aspect))
            picture = chosen.reformat(width=width, format="rgb24").to_image()
    except FileNotFoundError:
        raise
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None
    write_into_place(dest, lambda tmp: picture.save(tmp, "JPEG", quality=95))


def frame_picture(video_path: StrPath, at_seconds: float) -> Image.Image:
    """The frame shown at `at_seconds` (the last one, at or past the end) at its full displayed
    size, as an RGB picture: what a reviewer saw when they paused there."""
    if at_seconds < 0:
        raise ValueError("at_seconds cannot be negative")
    try:
        with open_undecoded(video_path) as container:
            stream = video_stream(container)
            if stream is None:
                raise MediaError("this file has no video to take a frame from")
            seconds = declared_seconds(container)
            if seconds is not None and at_seconds >= seconds:
                chosen = _first_or_last(container, stream, last=True)
            else:
                chosen, _ = _frame_at(container, at_seconds)
            aspect = stream.sample_aspect_ratio or 1
            width = max(1, round(chosen.width * aspect))
            return chosen.reformat(width=width, format="rgb24").to_image()
    except FileNotFoundError:
        raise
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None


def _first_or_last(container, stream, *, last: bool) -> av.VideoFrame:
    seconds = declared_seconds(container)
    if last and seconds is not None and seconds > 1:
        # From the keyframe before the final second on: not the whole video decoded.
        container.seek(round((seconds - 1) * av.time_base))
    chosen = None
    for frame in container.decode(stream):
        chosen = frame
        if not last:
            break
    if chosen is None:
        raise MediaError("this video could not be decoded: it may be truncated or corrupt")
    return chosen


def write_provenance(src: StrPath, dest: StrPath, tags: dict[str, str]) -> MediaInfo:
    """Copy the video at `src` to an MP4 at `dest` (which may be `src`) with `tags` added to
    its metadata; return `probe(src)`. Copying packets would not notice a file cut short, so
    `src` is probed first and `dest` is left alone unless that finds a sound video."""
    for key, value in tags.items():
        if not key or key in _MUXER_TAGS:
            raise ValueError(f"{key!r} cannot be used as a metadata key")
        if "\0" in key or "\0" in value:
            # FFmpeg keeps tags as C strings: anything after a NUL would be lost silently.
            raise ValueError(f"metadata tag {key!r} contains a NUL character")
    info = probe(src)
    if info.kind != "video":
        raise MediaError(f"expected a video but this is {describe(info)}")
    try:
        write_into_place(dest, lambda tmp: _remux(Path(src), tmp, tags))
    except av.FFmpegError:
        raise MediaError("this video could not be copied: it may be truncated or corrupt") from None
    return info


def _remux(src: Path, dest: Path, tags: dict[str, str]) -> None:
    with (
        open_undecoded(src) as source,
        av.open(str(dest), "w", format="mp4", options={"movflags": _MOVFLAGS}) as out,
    ):
        # Streams made from templates carry the source's codec parameters and are never
        # opened as encoders, so what is muxed is the source's packets, byte for byte.
        streams = {}
        for template in source.streams:
            stream = out.add_stream_from_template(template)
            stream.metadata.update(template.metadata)  # language, handler name
            stream.disposition = template.disposition
            streams[template.index] = stream
        kept = {k: v for k, v in source.metadata.items() if k not in _MUXER_TAGS}
        out.metadata.update(kept | tags)
        for packet in source.demux():
            # The demuxer ends each stream with an empty packet that only flushes decoders.
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


def read_provenance(path: StrPath) -> dict[str, str]:
    """The container metadata tags of the file at `path`, the muxer's own included."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            return dict(container.metadata)
    except FileNotFoundError:
        raise  # the caller's mistake, not a damaged file
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None

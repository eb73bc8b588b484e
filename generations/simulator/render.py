"""Real, playable MP4 answers for the simulator: H.264 High profile with the index first and
AAC-LC audio, exactly the requested frames, showing the request's captions and a frame counter
so it is obvious which request a file belongs to and that it plays and seeks. The pictures are
drawn in overlay.py and the file written in mp4.py; rendering must be cheap up to 4K, so frames
are prepared as Pillow planes and encoded at x264's "ultrafast"."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av

from generations.ltx import rules
from generations.media.convert import write_into_place
from generations.simulator.mp4 import (
    Mp4Writer,
    chord_audio,
    decoded_audio,
    decoded_video,
    probe_video,
    samples_for,
    silence,
    with_beeps,
)
from generations.simulator.overlay import (
    GradientBackground,
    ImageBackground,
    Overlay,
    check_even_size,
    darkened,
    dissolved,
    frame_from_planes,
    planes_of,
)

# Part of every cache key: bump it whenever the output of the same inputs changes, so a
# cache filled by an older version is not served.
RENDER_VERSION = 1


def render_generation(
    dest: str | os.PathLike,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    caption_lines: list[str],
    first_image: str | os.PathLike | None = None,
    last_image: str | os.PathLike | None = None,
    generate_audio: bool = True,
    soundtrack: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> None:
    """Write a text-, image- or audio-to-video result to `dest`: `first_image` is frame 0 and
    the background; `last_image`, when given, is the last frame, the background dissolving
    into it on the way; `soundtrack` is the audio, else `generate_audio` makes some."""
    check_even_size(width, height)
    if fps <= 0 or frames <= 0:
        raise ValueError(f"need fps > 0 and frames > 0, got fps={fps}, frames={frames}")
    key = {
        "kind": "generation",
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "caption_lines": list(caption_lines),
        "first_image": _file_digest(first_image) if first_image is not None else None,
        "generate_audio": generate_audio,
        "soundtrack": _file_digest(soundtrack) if soundtrack is not None else None,
    }
    if last_image is not None:  # only then: the keys of renders without one stay as they were
        key["last_image"] = _file_digest(last_image)

    def render(path: Path) -> None:
        overlay = Overlay(width, height, fps, frames, caption_lines, band=first_image is not None)
        if first_image is not None:
            background = ImageBackground(first_image, width, height)
        else:
            background = GradientBackground(width, height, fps)
        ending = ImageBackground(last_image, width, height) if last_image is not None else None
        last = frames - 1

        def pictures() -> Iterator[av.VideoFrame]:
            for index in range(frames):
                y, u, v = background.planes(index)
                if ending is not None:
                    y, u, v = dissolved((y, u, v), ending.planes(index), index / max(last, 1))
                # The given images are shown alone, as the frames they were asked to be.
                alone = (index == 0 and first_image is not None) or (
                    index == last and ending is not None
                )
                if not alone:
                    overlay.draw(y, u, v, index)
                yield frame_from_planes(y, u, v)

        if soundtrack is not None:
            audio = decoded_audio(soundtrack)
        elif generate_audio:
            audio = chord_audio(samples_for(Fraction(frames, fps)))
        else:
            audio = None
        with Mp4Writer(path, width, height, Fraction(fps), with_audio=audio is not None) as out:
            out.write_interleaved(pictures(), audio)

    _produce(dest, cache_dir, key, render)


def render_retake(
    dest: str | os.PathLike,
    *,
    source: str | os.PathLike,
    start_time: float,
    duration: float,
    mode: str,
    caption_lines: list[str],
    cache_dir: str | os.PathLike | None = None,
) -> None:
    """Write `source` to `dest` with the section from `start_time` (clamped to the video)
    visibly redrawn and/or its audio beeping, as `mode` says."""
    if mode not in rules.RETAKE_MODES:
        raise ValueError(f"mode must be one of {', '.join(rules.RETAKE_MODES)}, got {mode!r}")
    key = {
        "kind": "retake",
        "source": _file_digest(source),
        "start_time": float(start_time),
        "duration": float(duration),
        "mode": mode,
        "caption_lines": list(caption_lines),
    }

    def render(path: Path) -> None:
        info = probe_video(source)
        check_even_size(info.width, info.height)
        video_seconds = Fraction(info.frames) / info.rate
        start = min(max(Fraction(start_time), Fraction(0)), video_seconds)
        stop = min(max(Fraction(start_time) + Fraction(duration), start), video_seconds)
        first_frame, stop_frame = math.ceil(start * info.rate), math.ceil(stop * info.rate)

        replace_video = mode in ("replace_video", "replace_audio_and_video")
        replace_audio = mode in ("replace_audio", "replace_audio_and_video")
        overlay = Overlay(
            info.width,
            info.height,
            info.rate,
            info.frames,
            caption_lines,
            band=True,
            label="RETAKE",
        )

        def pictures() -> Iterator[av.VideoFrame]:
            for index, frame in enumerate(decoded_video(source)):
                if replace_video and first_frame <= index < stop_frame:
                    y, u, v = darkened(planes_of(frame))
                    overlay.draw(y, u, v, index)
                    frame = frame_from_planes(y, u, v)
                yield frame

        if info.has_audio:
            audio = decoded_audio(source)
        elif replace_audio:
            audio = silence(samples_for(video_seconds))
        else:
            audio = None
        if audio is not None and replace_audio:
            audio = with_beeps(audio, samples_for(start), samples_for(stop))
        with Mp4Writer(
            path,
            info.width,
            info.height,
            info.rate,
            with_audio=audio is not None,
            colour_tags=info.colour_tags,
        ) as out:
            out.write_interleaved(pictures(), audio)

    _produce(dest, cache_dir, key, render)


def render_extend(
    dest: str | os.PathLike,
    *,
    source: str | os.PathLike,
    duration: float,
    mode: str,
    caption_lines: list[str],
    cache_dir: str | os.PathLike | None = None,
) -> None:
    """Write `source` with `duration` seconds added at its end or start (`mode`), at its size
    and frame rate: the new frames are its nearest frame dimmed and labelled, and, when the
    source has audio, a chord sounds under them."""
    if mode not in rules.EXTEND_MODES:
        raise ValueError(f"mode must be one of {', '.join(rules.EXTEND_MODES)}, got {mode!r}")
    key = {
        "kind": "extend",
        "source": _file_digest(source),
        "duration": float(duration),
        "mode": mode,
        "caption_lines": list(caption_lines),
    }

    def render(path: Path) -> None:
        info = probe_video(source)
        check_even_size(info.width, info.height)
        added = max(1, round(Fraction(duration) * info.rate))
        at_start = mode == "start"
        overlay = Overlay(
            info.width,
            info.height,
            info.rate,
            info.frames + added,
            caption_lines,
            band=True,
            label="EXTEND",
        )

        def new_frames(edge: av.VideoFrame) -> Iterator[av.VideoFrame]:
            dimmed = darkened(planes_of(edge))
            first_index = 0 if at_start else info.frames
            for n in range(added):
                y, u, v = (plane.copy() for plane in dimmed)
                overlay.draw(y, u, v, first_index + n)
                yield frame_from_planes(y, u, v)

        def pictures() -> Iterator[av.VideoFrame]:
            if at_start:
                with contextlib.closing(decoded_video(source)) as frames:
                    new = new_frames(next(frames))
                    yield next(new)  # its planes are copied before the decoder closes
                yield from new
                yield from decoded_video(source)
                return
            last = None
            for last in decoded_video(source):
                yield last
            yield from new_frames(last)

        audio = None
        if info.has_audio:
            added_samples = samples_for(Fraction(added) / info.rate)
            if at_start:
                audio = itertools.chain(chord_audio(added_samples), decoded_audio(source))
            else:
                own = samples_for(Fraction(info.frames) / info.rate)
                audio = itertools.chain(
                    _padded(decoded_audio(source), own), chord_audio(added_samples)
                )
        with Mp4Writer(
            path,
            info.width,
            info.height,
            info.rate,
            with_audio=audio is not None,
            colour_tags=info.colour_tags,
        ) as out:
            out.write_interleaved(pictures(), audio)

    _produce(dest, cache_dir, key, render)


def _padded(frames: Iterator[av.AudioFrame], total: int) -> Iterator[av.AudioFrame]:
    """The frames, then silence up to `total` samples if they were shorter: an added part
    starts when the video's frames end."""
    count = 0
    for frame in frames:
        count += frame.samples
        yield frame
    if count < total:
        yield from silence(total - count)


def _produce(
    dest: str | os.PathLike,
    cache_dir: str | os.PathLike | None,
    key: dict,
    render: Callable[[Path], None],
) -> None:
    """Render to `dest` atomically, or copy a cached result of the same inputs."""
    dest = Path(dest)
    cached = None
    if cache_dir is not None:
        digest = hashlib.sha256(
            json.dumps({"version": RENDER_VERSION, **key}, sort_keys=True).encode()
        ).hexdigest()
        cached = Path(cache_dir) / f"{digest}.mp4"
        # Someone may clear the cache between the check and the copy; then render after all.
        with contextlib.suppress(FileNotFoundError):
            if cached.is_file():
                _write_atomically(dest, lambda tmp: shutil.copyfile(cached, tmp))
                return
    _write_atomically(dest, render)
    if cached is not None:
        _write_atomically(cached, lambda tmp: shutil.copyfile(dest, tmp))


def _write_atomically(dest: Path, write: Callable[[Path], object]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)

    def write_public(tmp: Path) -> None:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes it private; these files are meant to be served

    write_into_place(dest, write_public)


def _file_digest(path: str | os.PathLike) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()

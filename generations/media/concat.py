"""Videos joined end to end into one MP4, the rough cut of a sequence. When every input was
encoded alike (codec, size, frame rate, codec setup, audio) their packets are copied, bit for
bit; otherwise each is decoded and encoded once more at the first one's size and frame rate,
fitted inside it without stretching. No Django."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from generations.media.convert import write_into_place
from generations.media.probing import MediaError, MediaInfo, StrPath, open_undecoded, probe
from generations.media.probing import video_stream as first_video

Progress = Callable[[float], None]
AUDIO_RATE = 48000
# x264's own "visually lossless" neighbourhood: a rough cut is watched, then relinked in an NLE.
_CRF = "18"
_MOVFLAGS = "+faststart+use_metadata_tags"


def _signature(path: Path) -> tuple:
    """What must be equal for packets of two files to follow each other in one stream."""
    with open_undecoded(path) as container:
        video = first_video(container)
        if video is None:
            raise MediaError(f"{path.name} has no video")
        audio = next(iter(container.streams.audio), None)
        vc = video.codec_context
        picture = (vc.name, vc.width, vc.height, video.average_rate, video.time_base)
        sound = None
        if audio is not None:
            ac = audio.codec_context
            sound = (
                ac.name,
                ac.sample_rate,
                ac.layout.name,
                audio.time_base,
                bytes(ac.extradata or b""),
            )
        return picture, bytes(vc.extradata or b""), sound


def can_copy(sources: Sequence[StrPath]) -> bool:
    """Whether the files can be joined without encoding again."""
    signatures = {_signature(Path(source)) for source in sources}
    return len(signatures) == 1


def concatenate(
    sources: Sequence[StrPath],
    dest: StrPath,
    *,
    tags: dict[str, str],
    progress: Progress | None = None,
) -> tuple[MediaInfo, bool]:
    """Join `sources` in order into `dest` with `tags` in its metadata; return what was
    written and whether its packets were copied (rather than encoded again)."""
    if not sources:
        raise ValueError("nothing to join")
    sources = [Path(source) for source in sources]
    infos = [probe(source) for source in sources]
    for source, info in zip(sources, infos, strict=True):
        if info.kind != "video" or not info.duration:
            raise MediaError(f"{source.name} is not a playable video")
    if any("\0" in key + value for key, value in tags.items()):
        raise ValueError("metadata cannot hold a NUL character")
    copy = can_copy(sources)
    report = progress or (lambda done: None)
    try:
        if copy:
            write_into_place(dest, lambda tmp: _copy(sources, infos, tmp, tags, report))
        else:
            write_into_place(dest, lambda tmp: _encode(sources, infos, tmp, tags, report))
    except av.FFmpegError as exc:
        raise MediaError(f"the videos could not be joined: {exc}") from None
    report(1.0)
    return probe(dest), copy


def _output(path: Path, tags: dict[str, str]):
    out = av.open(str(path), "w", format="mp4", options={"movflags": _MOVFLAGS})
    out.metadata.update(tags)
    return out


def _copy(sources, infos, dest: Path, tags, report: Progress) -> None:
    total = sum(info.duration for info in infos)
    with _output(dest, tags) as out:
        streams: dict[str, av.stream.Stream] = {}
        ends: dict[str, int] = {}  # each output stream's end so far, in its time base
        start = 0.0  # where this source begins in the cut, in seconds
        for source, info in zip(sources, infos, strict=True):
            with open_undecoded(source) as container:
                video = first_video(container)
                audio = next(iter(container.streams.audio), None)
                ours = {video.index: "video"} | ({audio.index: "audio"} if audio else {})
                if not streams:
                    for index, kind in ours.items():
                        streams[kind] = out.add_stream_from_template(container.streams[index])
                shifts: dict[str, int] = {}
                for packet in container.demux(*(container.streams[i] for i in ours)):
                    if packet.dts is None:
                        continue  # the demuxer's flush packet
                    kind = ours[packet.stream.index]
                    if kind not in shifts:
                        # Where the picture says this source starts; AAC's last frame of the
                        # previous source may run a few samples past it, and time only goes on.
                        ideal = round(Fraction(start) / packet.time_base)
                        shifts[kind] = max(ideal, ends.get(kind, ideal) - packet.dts)
                    packet.pts += shifts[kind]
                    packet.dts += shifts[kind]
                    ends[kind] = max(ends.get(kind, 0), packet.dts + (packet.duration or 1))
                    packet.stream = streams[kind]
                    out.mux(packet)
            # Every stream of the next source starts where this one's picture ends, so sound
            # and picture stay together shot after shot.
            start += info.frames / info.fps if info.frames and info.fps else info.duration
            report(min(0.99, start / total))


def _fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """The frame at width x height: scaled, and letterboxed if its shape differs."""
    if (frame.width, frame.height) == (width, height):
        return frame.reformat(format="yuv420p")
    scale = min(width / frame.width, height / frame.height)
    inner = (max(2, round(frame.width * scale)), max(2, round(frame.height * scale)))
    picture = frame.reformat(width=inner[0], height=inner[1], format="rgb24").to_image()
    canvas = Image.new("RGB", (width, height))
    canvas.paste(picture, ((width - inner[0]) // 2, (height - inner[1]) // 2))
    return av.VideoFrame.from_image(canvas).reformat(format="yuv420p")


def _silence(samples: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = AUDIO_RATE
    return frame


def _encode(sources, infos, dest: Path, tags, report: Progress) -> None:
    with av.open(str(sources[0])) as first:
        rate = first_video(first).average_rate or Fraction(25)
    width, height = infos[0].width, infos[0].height
    total = sum(info.duration for info in infos)
    with _output(dest, tags) as out:
        picture = out.add_stream("libx264", rate=rate, options={"crf": _CRF, "preset": "veryfast"})
        picture.width, picture.height, picture.pix_fmt = width, height, "yuv420p"
        sound = None
        if any(info.has_audio for info in infos):
            sound = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        frames_out = samples_out = 0
        done = 0.0
        for source, info in zip(sources, infos, strict=True):
            frames = round(Fraction(info.duration) * rate)
            frames_out = _encode_picture(out, picture, source, frames, frames_out, rate)
            if sound is not None:
                samples = frames * AUDIO_RATE // rate  # exactly as long as its picture
                samples_out = _encode_sound(out, sound, source, samples, samples_out)
            done += info.duration
            report(min(0.99, done / total))
        for stream in (picture, sound):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)


def _encode_picture(out, stream, source: Path, frames: int, first_pts: int, rate) -> int:
    """Encode `frames` frames of `source` at `rate`, each the source's frame showing at that
    moment (frames repeated or skipped where the rates differ); return the next pts."""
    shown = 0
    previous = None
    with av.open(str(source)) as container:
        video = first_video(container)
        start = None
        for frame in container.decode(video):
            moment = frame.time or 0.0
            start = moment if start is None else start
            while shown < frames and shown / rate < moment - start and previous is not None:
                _put(out, stream, previous, first_pts + shown)
                shown += 1
            previous = _fit(frame, stream.width, stream.height)
    if previous is None:
        raise MediaError(f"{source.name}: no frame could be decoded")
    while shown < frames:
        _put(out, stream, previous, first_pts + shown)
        shown += 1
    return first_pts + frames


def _put(out, stream, frame: av.VideoFrame, pts: int) -> None:
    frame.pts = pts
    frame.time_base = 1 / stream.average_rate if stream.average_rate else None
    for packet in stream.encode(frame):
        out.mux(packet)


def _encode_sound(out, stream, source: Path, samples: int, first_pts: int) -> int:
    """Encode exactly `samples` samples for `source`: its sound resampled, cut or padded with
    silence to its picture's length (silence throughout if it has none)."""
    fifo = av.AudioFifo()
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    with av.open(str(source)) as container:
        audio = next(iter(container.streams.audio), None)
        if audio is not None:
            for decoded in container.decode(audio):
                for frame in resampler.resample(decoded):
                    frame.pts = None
                    fifo.write(frame)
                if fifo.samples >= samples:
                    break
            for frame in resampler.resample(None):
                frame.pts = None
                fifo.write(frame)
    written = 0
    while written < samples:
        wanted = min(1024, samples - written)
        frame = fifo.read(wanted) if fifo.samples >= wanted else None
        if frame is None:
            frame = _silence(wanted)
        frame.pts = first_pts + written
        frame.sample_rate = AUDIO_RATE
        frame.time_base = Fraction(1, AUDIO_RATE)
        for packet in stream.encode(frame):
            out.mux(packet)
        written += wanted
    return first_pts + written

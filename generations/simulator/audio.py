"""The soundtracks: a soft chord for generations, beeps over a retaken section, silence,
and any file's audio decoded to the one format the writer takes (48 kHz stereo float)."""

from __future__ import annotations

import itertools
import math
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction

import av

AUDIO_RATE = 48_000


# The generated soundtrack is a just-intonation major triad (1, 5/4, 3/2) whose root changes
# every second. Each root is 4 times a divisor of 48000, so every note is a whole number of
# Hz (a second holds whole cycles of each, and the next chord starts at a zero crossing,
# without a click) and the chord repeats every 48000 / (root / 4) samples exactly, so only
# one period is computed in Python.
CHORD_ROOTS_HZ = (200, 240, 300, 240, 320, 400)
CHORD_AMPLITUDE = 0.1  # per note
# The retake tone is a different sound on purpose: 1 kHz beeps, 1/8 s on and 1/8 s off.
# 125 whole cycles per beep, so each beep ends at a zero crossing.
BEEP_HZ = 1000
BEEP_SAMPLES = AUDIO_RATE // 8
BEEP_AMPLITUDE = 0.25


def decoded_audio(path: str | os.PathLike) -> Iterator[av.AudioFrame]:
    """The first audio stream of any file FFmpeg reads, as 48 kHz stereo float frames."""
    with av.open(os.fspath(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{os.fspath(path)!r} has no audio stream")
        stream = container.streams.audio[0]
        # Decoders return whole codec frames, so the padding an encoder adds at the end comes
        # out as extra sound: for AAC in MP4 up to 1023 samples, which would make every
        # retake of a retake longer. The container knows the true length; stop there.
        if stream.duration is not None:
            limit = samples_for(stream.duration * stream.time_base)
        elif container.duration is not None:
            limit = samples_for(Fraction(container.duration, av.time_base))
        else:
            limit = None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        position = 0
        for decoded in itertools.chain(container.decode(stream), [None]):
            for frame in resampler.resample(decoded):
                if limit is not None and position + frame.samples > limit:
                    left, right = (bytes(p)[: 4 * (limit - position)] for p in frame.planes)
                    if left:
                        yield _audio_frame(left, right)
                    return
                position += frame.samples
                yield frame


def samples_for(seconds: Fraction) -> int:
    return round(seconds * AUDIO_RATE)


def _audio_frame(left: bytes, right: bytes | None = None) -> av.AudioFrame:
    """A stereo frame of float32 samples, the same on both channels unless `right` is given."""
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=len(left) // 4)
    frame.sample_rate = AUDIO_RATE
    frame.planes[0].update(left)
    frame.planes[1].update(left if right is None else right)
    return frame


def _periodic(samples_per_period: int, wave: Callable[[float], float]) -> bytes:
    """One period of `wave` (a function of time in seconds) as float32 samples."""
    return array("f", (wave(n / AUDIO_RATE) for n in range(samples_per_period))).tobytes()


def chord_audio(total_samples: int) -> Iterator[av.AudioFrame]:
    """A soft chord changing every second, `total_samples` long, in one-second frames."""
    for second in range(math.ceil(total_samples / AUDIO_RATE)):
        one_second = _chord_second(CHORD_ROOTS_HZ[second % len(CHORD_ROOTS_HZ)])
        count = min(AUDIO_RATE, total_samples - second * AUDIO_RATE)
        yield _audio_frame(one_second[: 4 * count])


def _chord_second(root: int) -> bytes:
    """One second of the major triad on `root` Hz, as float32 samples."""
    notes = (root, root * 5 // 4, root * 3 // 2)
    period = AUDIO_RATE * 4 // root
    one_period = _periodic(
        period, lambda t: CHORD_AMPLITUDE * sum(math.sin(2 * math.pi * f * t) for f in notes)
    )
    return one_period * (AUDIO_RATE // period)


def silence(total_samples: int) -> Iterator[av.AudioFrame]:
    for start in range(0, total_samples, AUDIO_RATE):
        yield _audio_frame(bytes(4 * min(AUDIO_RATE, total_samples - start)))


def _beeps(count: int) -> bytes:
    """`count` samples of the retake tone, starting with a beep."""
    cycle = AUDIO_RATE // BEEP_HZ
    beep = _periodic(cycle, lambda t: BEEP_AMPLITUDE * math.sin(2 * math.pi * BEEP_HZ * t))
    pattern = beep * (BEEP_SAMPLES // cycle) + bytes(4 * BEEP_SAMPLES)
    return (pattern * math.ceil(count / (2 * BEEP_SAMPLES)))[: 4 * count]


def with_beeps(frames: Iterable[av.AudioFrame], start: int, stop: int) -> Iterator[av.AudioFrame]:
    """Pass audio frames through, with samples [start, stop) replaced by the retake tone."""
    tone = _beeps(max(0, stop - start))
    position = 0
    for frame in frames:
        count = frame.samples
        lo, hi = max(start, position), min(stop, position + count)
        if lo < hi:
            a, b = 4 * (lo - position), 4 * (hi - position)
            beeps = tone[4 * (lo - start) : 4 * (hi - start)]
            # Audio planes can be padded past the last sample; only the samples count.
            left, right = (bytes(p)[: 4 * count] for p in frame.planes)
            frame = _audio_frame(left[:a] + beeps + left[b:], right[:a] + beeps + right[b:])
        position += count
        yield frame

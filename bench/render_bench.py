"""Time the simulator's MP4 rendering at the sizes the LTX-2 API produces.

    .venv/bin/python bench/render_bench.py            # both cores
    taskset -c 0 .venv/bin/python bench/render_bench.py   # one core, the budget we aim for

Every case renders without the cache. Prints one row per case: seconds and output size.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from generations.simulator.render import render_generation, render_retake  # noqa: E402

PROMPT = (
    "A slow dolly shot through a neon-lit alley at night, rain on the cobblestones, "
    "reflections everywhere, a cat crossing the street while a tram passes in the distance"
)


def generation(width: int, height: int, fps: int, seconds: int, **extra) -> dict:
    return {
        "width": width,
        "height": height,
        "fps": fps,
        "frames": fps * seconds,
        "caption_lines": [PROMPT, f"ltx-2-pro · {width}x{height} · {fps} fps · {seconds} s"],
        **extra,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        image = tmp / "first.png"
        Image.effect_mandelbrot((1920, 1080), (-2.2, -1.2, 1.0, 1.2), 100).convert("RGB").save(
            image
        )
        source = tmp / "source.mp4"
        render_generation(source, **generation(1920, 1080, 25, 8))

        cases = [
            ("text-to-video 1080p25 8 s + audio", render_generation, generation(1920, 1080, 25, 8)),
            (
                "image-to-video 1080p25 8 s + audio",
                render_generation,
                generation(1920, 1080, 25, 8, first_image=image),
            ),
            (
                "text-to-video 1440p50 10 s + audio",
                render_generation,
                generation(2560, 1440, 50, 10),
            ),
            (
                "text-to-video 2160p50 10 s + audio",
                render_generation,
                generation(3840, 2160, 50, 10),
            ),
            (
                "retake 1080p25 8 s, 2-6 s audio+video",
                render_retake,
                {
                    "source": source,
                    "start_time": 2.0,
                    "duration": 4.0,
                    "mode": "replace_audio_and_video",
                    "caption_lines": [
                        "Retake: the cat jumps onto the tram",
                        "ltx-2-pro · 2.0-6.0 s",
                    ],
                },
            ),
        ]
        print(f"{'case':<40} {'seconds':>8} {'MB':>7}")
        for name, render, kwargs in cases:
            dest = tmp / "out.mp4"
            started = time.perf_counter()
            render(dest, **kwargs)
            seconds = time.perf_counter() - started
            print(f"{name:<40} {seconds:>8.2f} {dest.stat().st_size / 1e6:>7.2f}", flush=True)


if __name__ == "__main__":
    main()

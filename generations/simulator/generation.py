"""The generation endpoints: validate, resolve the inputs, charge, render, answer with the
MP4 (cut short when a dropped response is injected)."""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path

from generations.ltx import pricing, rules
from generations.simulator import render
from generations.simulator.handler import BaseHandler
from generations.simulator.inputs import (
    billed_input_seconds,
    check_filter,
    resolve_inputs,
    validated_request,
)
from generations.simulator.state import Refusal, SimulatorState


class GenerationRoutes(BaseHandler):
    """POST /v1/text-to-video, /v1/image-to-video, /v1/audio-to-video, /v1/retake and
    /v1/extend (when the profile played has it)."""

    def _generate(self, endpoint: str):
        api_key = self._authenticate()
        raw = self._read_body()
        self.state.check_rate_limit(api_key)
        request = validated_request(endpoint, raw)
        check_filter(request, self.state.config.filter_words)
        with tempfile.TemporaryDirectory(dir=self.state.data_dir / "work") as work:
            inputs = resolve_inputs(self.state, endpoint, request, Path(work))
            cost = pricing.estimate_cost(
                endpoint, request, input_seconds=billed_input_seconds(endpoint, inputs)
            )
            with self.state.generation_slot():
                self.state.reserve_credits(cost)
                try:
                    output = produce(self.state, endpoint, request, inputs, Path(work))
                except BaseException:
                    self.state.refund_credits(cost)
                    raise
                self._send_video(endpoint, output, cost)

    def _send_video(self, endpoint: str, path: Path, cost: Decimal):
        size = path.stat().st_size
        dropped = self.state.chance(self.state.config.drop_rate)
        self._record(endpoint, 200, None, dropped=dropped, cost=str(cost), size=size)
        self._stream_video(path, size, dropped=dropped)


def produce(state: SimulatorState, endpoint: str, request: dict, inputs: dict, work: Path) -> Path:
    config = state.config
    if config.latency:
        time.sleep(config.latency)
    if state.chance(config.fail_rate):
        if config.fail_status == 503:
            raise Refusal(503, "service_unavailable", "Service temporarily unavailable")
        if config.fail_status == 504:
            raise Refusal(504, "gateway_timeout", "upstream request timeout")
        raise Refusal(500, "api_error", "Internal server error")
    output = work / "output.mp4"
    cache_dir = state.data_dir / "cache"
    captions = _captions(endpoint, request)
    if endpoint == rules.RETAKE:
        render.render_retake(
            output,
            source=inputs["video_uri"][0],
            start_time=request["start_time"],
            duration=request["duration"],
            mode=request["mode"],
            caption_lines=captions,
            cache_dir=cache_dir,
        )
        return output
    if endpoint == rules.EXTEND:
        render.render_extend(
            output,
            source=inputs["video_uri"][0],
            duration=request["duration"],
            mode=request["mode"],
            caption_lines=captions,
            cache_dir=cache_dir,
        )
        return output
    width, height = rules.parse_resolution(request["resolution"])
    if endpoint == rules.AUDIO_TO_VIDEO:
        audio_path, audio_info = inputs["audio_uri"]
        fps = rules.AUDIO_TO_VIDEO_FPS
        frames = max(1, round(audio_info.duration * fps))
    else:
        audio_path, fps = None, request["fps"]
        frames = request["duration"] * fps
    render.render_generation(
        output,
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        caption_lines=captions,
        first_image=inputs.get("image_uri", (None,))[0],
        last_image=inputs.get("last_frame_uri", (None,))[0],
        generate_audio=request.get("generate_audio", True),
        soundtrack=audio_path,
        cache_dir=cache_dir,
    )
    return output


def _captions(endpoint: str, request: dict) -> list[str]:
    prompt = (request.get("prompt") or "").strip() or "(no prompt)"
    if endpoint == rules.RETAKE:
        details = (
            f"retake {request['mode']} from {request['start_time']:g} s "
            f"for {request['duration']:g} s"
        )
    elif endpoint == rules.EXTEND:
        context = f", {request['context']:g} s of context" if "context" in request else ""
        details = f"extend {request['model']} {request['duration']:g} s at the {request['mode']}"
        details += context
    elif endpoint == rules.AUDIO_TO_VIDEO:
        details = f"audio-to-video {request['model']} {request['resolution']} 25 fps"
    else:
        details = (
            f"{endpoint} {request['model']} {request['resolution']} {request['fps']} fps "
            f"{request['duration']} s"
        )
        if request.get("camera_motion"):
            details += f" {request['camera_motion']}"
        if not request.get("generate_audio", True):
            details += " silent"
    # No request id in the picture: identical requests then share one cached render.
    return [prompt, details, "ltxsim · simulated LTX-2 video"]

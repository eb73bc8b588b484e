"""The LTX-2 API: its rules, prices, errors and a client. No Django imports here."""

from generations.ltx.client import (
    AudioToVideo,
    ImageToVideo,
    LTXClient,
    Retake,
    TextToVideo,
    Upload,
    VideoResult,
)
from generations.ltx.errors import LTXError
from generations.ltx.rules import RequestInvalid

__all__ = [
    "AudioToVideo",
    "ImageToVideo",
    "LTXClient",
    "LTXError",
    "RequestInvalid",
    "Retake",
    "TextToVideo",
    "Upload",
    "VideoResult",
]

"""The LTX-2 API: its rules, prices, errors and a client. No Django imports here."""

from generations.ltx.client import LTXClient, Upload, VideoResult
from generations.ltx.errors import LTXError
from generations.ltx.rules import RequestInvalid
from generations.ltx.schemas import AudioToVideo, ImageToVideo, Retake, TextToVideo

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

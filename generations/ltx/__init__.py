"""The LTX-2 API: its rules, prices, errors and a client. No Django imports here."""

from .client import AudioToVideo, ImageToVideo, LTXClient, Retake, TextToVideo, Upload, VideoResult
from .errors import LTXError
from .rules import RequestInvalid

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

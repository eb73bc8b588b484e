"""A prompt builder following the "Prompting Guide for LTX-2": its six elements composed into
one paragraph, and advisory checks (word lists and regular expressions) of what the guide says
to avoid. Quoted words are dialogue, so every check but the sentence count and the length skips
them. No Django; callers import this package, not its modules."""

from generations.prompts.prompting.advice import check
from generations.prompts.prompting.checks.camera import CAMERA_CONFLICTS
from generations.prompts.prompting.elements import (
    ELEMENT_HELP,
    ELEMENT_LABELS,
    ELEMENTS,
    GUIDE_EXAMPLE,
    HELPFUL_TERMS,
    TEXT,
    compose,
    drift,
)
from generations.prompts.prompting.findings import INFO, WARNING, Finding
from generations.prompts.prompting.sentences import quoted_spans, sentence_spans

__all__ = [
    "CAMERA_CONFLICTS",
    "ELEMENTS",
    "ELEMENT_HELP",
    "ELEMENT_LABELS",
    "GUIDE_EXAMPLE",
    "HELPFUL_TERMS",
    "INFO",
    "TEXT",
    "WARNING",
    "Finding",
    "check",
    "compose",
    "drift",
    "quoted_spans",
    "sentence_spans",
]

"""The guide's six elements and its "Additional Helpful Terms" (worded in guide.toml), and
the paragraph compose() makes of the elements."""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generations.prompts.prompting.text import CLOSERS, capitalise, is_terminal, squash

_GUIDE = tomllib.loads((Path(__file__).parent / "guide.toml").read_text(encoding="utf-8"))

# "Key Elements to Include", in the guide's order; compose() follows this order.
ELEMENTS = ("shot", "scene", "action", "characters", "camera", "audio")
ELEMENT_LABELS: dict[str, str] = _GUIDE["labels"]
ELEMENT_HELP: dict[str, str] = _GUIDE["help"]
GUIDE_EXAMPLE: dict[str, str] = _GUIDE["example"]

# Findings about the final text (rather than one element) name this instead of an element.
TEXT = "text"


@dataclass(frozen=True)
class TermGroup:
    """One group of the guide's "Additional Helpful Terms"."""

    section: str  # the guide's heading above the group, e.g. "Visual Details"
    name: str
    element: str  # the element a chosen term is inserted into
    terms: tuple[str, ...]  # exactly as the guide writes them


HELPFUL_TERMS: tuple[TermGroup, ...] = tuple(
    TermGroup(group["section"], group["name"], group["element"], tuple(group["terms"]))
    for group in _GUIDE["terms"]
)

# Dangling punctuation a sentence should not end on; compose() drops it before the full stop.
_TRAILING_JOINERS = ",;:–—-"


def _sentence(text: str) -> str:
    text = squash(text).rstrip(_TRAILING_JOINERS + " ")
    if not any(char.isalnum() for char in text):
        return ""
    text = capitalise(text)
    return text if is_terminal(text.rstrip(CLOSERS)[-1:]) else text + "."


def compose(elements: Mapping[str, str | None]) -> str:
    """One flowing paragraph, in the guide's order: each element a sentence, tidied but never
    reworded. Keys outside ELEMENTS are ignored, so a form's fields can be passed as they are."""
    sentences = (_sentence(elements.get(name) or "") for name in ELEMENTS)
    return " ".join(sentence for sentence in sentences if sentence)


def drift(elements: Mapping[str, str | None], final_text: str) -> bool:
    """Whether a hand-edited final text differs from compose()'s, whitespace aside."""
    return squash(compose(elements)) != squash(final_text)

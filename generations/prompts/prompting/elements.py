"""The guide's six elements and its "Additional Helpful Terms", as data the form and
the builder page read (the wording lives in guide.toml beside this module)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

_GUIDE = tomllib.loads((Path(__file__).parent / "guide.toml").read_text(encoding="utf-8"))

# "Key Elements to Include", in the guide's order; compose() follows this order.
ELEMENTS = ("shot", "scene", "action", "characters", "camera", "audio")
ELEMENT_LABELS: dict[str, str] = _GUIDE["labels"]
ELEMENT_HELP: dict[str, str] = _GUIDE["help"]

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

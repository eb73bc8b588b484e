"""What a check returns (Finding), what it reads (Segment), and the helpers every check
uses to match words outside quotations."""

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from generations.prompts.prompting.sentences import mask_quotes
from generations.prompts.prompting.text import squash

WARNING = "warning"
INFO = "info"

# The checks' word lists, kept as data beside this module.
WORDS = tomllib.loads((Path(__file__).parent / "words.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Finding:
    """One piece of advice from check(). Advisory only: nothing here blocks a save."""

    code: str  # stable identifier, e.g. "emotion_label"
    message: str  # a short explanation and what to do instead
    element: str  # the element holding the triggering words, or TEXT for the final text
    start: int | None  # offsets of the triggering words in that text; None for the whole text
    end: int | None
    severity: str  # WARNING or INFO


class Segment(NamedTuple):
    """One text a check reads: an element's text, or the final text."""

    element: str
    text: str
    masked: str  # the same text with quoted words blanked out


def segment_of(element: str, text: str) -> Segment:
    return Segment(element, text, mask_quotes(text))


# "won't", "he'd", "she'll": a contraction makes a different word ("won" is not "won't"). A
# possessive "'s" does not ("the crowd's roar" still mentions a crowd).
_CONTRACTION = r"['’](?:t|d|ll|re|ve|m)(?!\w)"


def rx(*fragments: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive alternatives (a space matches any whitespace; "sad" does not
    match "sad-eyed"). A fragment may name a `hit` group to narrow the highlight."""
    alternatives = "|".join(fragment.replace(" ", r"\s+") for fragment in fragments)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-]|{_CONTRACTION})", re.IGNORECASE)


def hits(pattern: re.Pattern[str], segment: Segment) -> Iterator[tuple[int, int]]:
    """Spans of the pattern's matches outside quotations (the `hit` group where it has one)."""
    for match in pattern.finditer(segment.masked):
        group = "hit" if "hit" in pattern.groupindex and match.group("hit") else 0
        yield match.span(group)


def flag(
    pattern: re.Pattern[str], segments: list[Segment], code: str, advice: str
) -> list[Finding]:
    """A warning for each match outside quotations; `advice` follows the quoted words."""
    return [
        Finding(
            code, f"{quote(segment.text[start:end])} {advice}", segment.element, start, end, WARNING
        )
        for segment in segments
        for start, end in hits(pattern, segment)
    ]


def quote(words: str) -> str:
    return f"“{squash(words)}”"


def previous_word(text: str, at: int) -> str:
    """The word before `at` in the same sentence, lowercased ("" if none)."""
    match = re.search(r"([\w'’-]+)[^\w.!?;:\n]*$", text[max(0, at - 80) : at])
    return match.group(1).lower() if match else ""

"""compose() joins the six elements into the paragraph the guide asks for; drift() tells
when a hand-edited final text has moved away from it."""

from __future__ import annotations

from collections.abc import Mapping

from generations.prompts.prompting.elements import ELEMENTS
from generations.prompts.prompting.text import CLOSERS, capitalise, is_terminal, squash

# Dangling punctuation a sentence should not end on; compose() drops it before the full stop.
_TRAILING_JOINERS = ",;:–—-"


def _ends_sentence(text: str) -> bool:
    """True when the text ends on terminal punctuation, possibly inside closing quotes."""
    return is_terminal(text.rstrip(CLOSERS)[-1:])


def _sentence(text: str) -> str:
    text = squash(text).rstrip(_TRAILING_JOINERS + " ")
    if not any(char.isalnum() for char in text):
        return ""
    text = capitalise(text)
    return text if _ends_sentence(text) else text + "."


def compose(elements: Mapping[str, str | None]) -> str:
    """Join the elements into one flowing paragraph, in the guide's order.

    Each non-empty element becomes a sentence: whitespace collapsed, first letter capitalised,
    terminal punctuation added when missing (never after a quote that already ends in it),
    dangling commas, colons and dashes at the end dropped. Nothing else is added, removed or
    reworded; an element with no letter or digit is left out. Keys outside ELEMENTS are
    ignored, so a form's other fields can be passed along as they are.
    """
    sentences = (_sentence(elements.get(name) or "") for name in ELEMENTS)
    return " ".join(sentence for sentence in sentences if sentence)


def drift(elements: Mapping[str, str | None], final_text: str) -> bool:
    """Whether a hand-edited final text no longer matches what compose() would produce.

    Whitespace differences (line breaks, double spaces) are not drift.
    """
    return squash(compose(elements)) != squash(final_text)

"""sentence_count and too_long: the final text as a whole."""

from __future__ import annotations

from generations.prompts.prompting.elements import TEXT
from generations.prompts.prompting.findings import INFO, WARNING, Finding
from generations.prompts.prompting.sentences import sentence_spans

MIN_SENTENCES = 4
MAX_SENTENCES = 8


def check_sentence_count(final_text: str) -> list[Finding]:
    """The guide: "Aim for 4-8 descriptive sentences". Info only - it is an aim, and the
    guide's own samples, written as scripts with dialogue, run longer."""
    count = len(sentence_spans(final_text))
    if MIN_SENTENCES <= count <= MAX_SENTENCES:
        return []
    if count < MIN_SENTENCES:
        advice = "add what is missing: scene, action, characters, camera or audio"
    else:
        advice = "merge or trim sentences so the scene stays clear"
    message = (
        f"The prompt has {count} sentence{'s' if count != 1 else ''}; the guide suggests 4–8 "
        f"descriptive sentences — {advice}."
    )
    return [Finding("sentence_count", message, TEXT, None, None, INFO)]


# Length is measured in words, the unit a writer counts in. The guide's longest sample is
# about 240 words (1,400 characters) and 4-8 full sentences come to roughly 60-250 words, so
# past 300 words a prompt is longer than anything the guide models ("Start simple and layer
# complexity gradually") - worth a note. Past 600, twice that, it is almost certainly
# overcomplicated - a warning. Text written without spaces between words (Chinese, Japanese:
# "words" averaging over twelve characters) is counted as one word per six characters, the
# English average with its space.
LONG_WORDS = 300
TOO_LONG_WORDS = 600
_CHARS_PER_WORD = 6


def _word_count(text: str) -> int:
    tokens = text.split()
    characters = sum(len(token) for token in tokens)
    if tokens and characters / len(tokens) > 2 * _CHARS_PER_WORD:
        return characters // _CHARS_PER_WORD  # written without spaces between words
    return len(tokens)


def check_too_long(final_text: str) -> list[Finding]:
    words = _word_count(final_text)
    if words <= LONG_WORDS:
        return []
    severity = WARNING if words > TOO_LONG_WORDS else INFO
    message = (
        f"About {words} words — longer than the guide's own samples (about 150–240). "
        "Start simple and layer complexity gradually: keep the 4–8 sentences that matter most."
    )
    return [Finding("too_long", message, TEXT, None, None, severity)]

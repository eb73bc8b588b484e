"""check() runs every check of the guide; the two that read the whole final text are here."""

from collections.abc import Mapping

from generations.prompts.prompting.checks.camera import check_camera_motion
from generations.prompts.prompting.checks.crowding import check_crowding
from generations.prompts.prompting.checks.emotions import check_emotion_labels
from generations.prompts.prompting.checks.lighting import check_lighting
from generations.prompts.prompting.checks.physics import check_complex_physics
from generations.prompts.prompting.checks.readable_text import check_readable_text
from generations.prompts.prompting.checks.speech import check_unquoted_speech
from generations.prompts.prompting.checks.tense import check_tense
from generations.prompts.prompting.elements import ELEMENTS, TEXT, drift
from generations.prompts.prompting.findings import INFO, WARNING, Finding, segment_of
from generations.prompts.prompting.sentences import sentence_spans

MIN_SENTENCES = 4
MAX_SENTENCES = 8


def check_sentence_count(
    final_text: str, elements: Mapping[str, str | None] | None = None
) -> list[Finding]:
    """The guide: "Aim for 4-8 descriptive sentences". Info only - it is an aim, and the
    guide's own samples, written as scripts with dialogue, run longer. Names as missing only
    the elements that are empty (`elements`: None when the text was written by hand)."""
    count = len(sentence_spans(final_text))
    if MIN_SENTENCES <= count <= MAX_SENTENCES:
        return []
    empty = [
        name for name in ELEMENTS if elements is not None and not (elements.get(name) or "").strip()
    ]
    if count < MIN_SENTENCES and empty:
        advice = "add what is missing: " + _listed(empty)
    elif count < MIN_SENTENCES:
        advice = "give the scene, the action, the characters, the camera or the sound more detail"
    else:
        advice = "merge or trim sentences so the scene stays clear"
    message = (
        f"The prompt has {count} sentence{'s' if count != 1 else ''}; the guide suggests 4–8 "
        f"descriptive sentences — {advice}."
    )
    return [Finding("sentence_count", message, TEXT, None, None, INFO)]


# In words, a writer's unit. Past 300 a prompt is longer than any of the guide's samples (a
# note); past 600 it is almost certainly overcomplicated (a warning). Text without spaces
# (Chinese, Japanese) counts a word per six characters, the English average with its space.
LONG_WORDS = 300
TOO_LONG_WORDS = 600
_CHARS_PER_WORD = 6


def _word_count(text: str) -> int:
    tokens = text.split()
    characters = sum(len(token) for token in tokens)
    if tokens and characters / len(tokens) > 2 * _CHARS_PER_WORD:
        return characters // _CHARS_PER_WORD  # written without spaces between words
    return len(tokens)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


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


_WORD_CHECKS = (
    check_tense,
    check_emotion_labels,
    check_readable_text,
    check_crowding,
    check_lighting,
    check_complex_physics,
    check_unquoted_speech,
)
_ELEMENT_ORDER = {name: rank for rank, name in enumerate((*ELEMENTS, TEXT))}


def check(
    elements: Mapping[str, str | None],
    final_text: str,
    settings: Mapping[str, object] | None = None,
) -> list[Finding]:
    """Advice on the final text (what gets sent), in reading order. While it is still the
    composed one, findings point into the elements so the builder can highlight them in place;
    once edited by hand, into the final text. `settings` may carry "camera_motion"."""
    if not final_text.strip():
        return []
    if drift(elements, final_text):
        segments = [segment_of(TEXT, final_text)]
    else:
        segments = [
            segment_of(name, elements.get(name) or "")
            for name in ELEMENTS
            if (elements.get(name) or "").strip()
        ]
    written = None if drift(elements, final_text) else elements
    findings = check_sentence_count(final_text, written) + check_too_long(final_text)
    for word_check in _WORD_CHECKS:
        findings += word_check(segments)
    camera_motion = (settings or {}).get("camera_motion")
    findings += check_camera_motion(segments, camera_motion)
    return sorted(
        set(findings),
        key=lambda f: (
            _ELEMENT_ORDER[f.element],
            -1 if f.start is None else f.start,
            -1 if f.end is None else f.end,
            f.code,
            f.message,
        ),
    )

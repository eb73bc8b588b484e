"""check(): every check of the guide, run over a prompt, findings in reading order; and the
two checks that read the final text as a whole, sentence_count and too_long."""

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
    """Read a prompt against the guide and return advice, in reading order.

    The final text is what gets sent, so it is what is judged. While it still matches
    compose(elements) (see drift), word-level findings point into the element the words came
    from, so the builder can highlight them in place; once it has been edited by hand they
    point into the final text (element TEXT). The sentence count and the length are always
    about the final text as a whole (start and end None). A blank final text gets no advice:
    there is nothing to read yet. `settings` may carry "camera_motion" (rules.CAMERA_MOTIONS).
    """
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
    findings = check_sentence_count(final_text) + check_too_long(final_text)
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

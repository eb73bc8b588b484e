"""check(): every check of the guide, run over a prompt, findings in reading order."""

from __future__ import annotations

from collections.abc import Mapping

from generations.prompts.prompting.checks.camera import check_camera_motion
from generations.prompts.prompting.checks.crowding import check_crowding
from generations.prompts.prompting.checks.emotions import check_emotion_labels
from generations.prompts.prompting.checks.length import check_sentence_count, check_too_long
from generations.prompts.prompting.checks.lighting import check_lighting
from generations.prompts.prompting.checks.physics import check_complex_physics
from generations.prompts.prompting.checks.readable_text import check_readable_text
from generations.prompts.prompting.checks.speech import check_unquoted_speech
from generations.prompts.prompting.checks.tense import check_tense
from generations.prompts.prompting.compose import drift
from generations.prompts.prompting.elements import ELEMENTS, TEXT
from generations.prompts.prompting.findings import Finding, segment_of

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

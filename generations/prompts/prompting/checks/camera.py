"""camera_motion_conflict: a camera_motion setting the camera description contradicts."""

import re

from generations.ltx.rules import CAMERA_MOTIONS
from generations.prompts.prompting.elements import TEXT
from generations.prompts.prompting.findings import WARNING, WORDS, Finding, Segment, hits, quote, rx
from generations.prompts.prompting.sentences import sentence_spans


def _camera_rx(verbs: str) -> re.Pattern[str]:
    """Generic movement verbs ("moves", "rises") count as camera moves only right after
    "camera" or "lens" (two words may come between); the hit is the verb alone."""
    return rx(f"(?:camera|lens)(?: [\\w-]+){{0,2}}? (?P<hit>{verbs})")


_MOVING = rx(*WORDS["moving"])
_CAMERA_MOVING = _camera_rx(
    "mov(?:e|es|ing)|ris(?:e|es|ing)|descend(?:s|ing)?|drift(?:s|ing)?|glid(?:e|es|ing)"
    "|sweep(?:s|ing)?|swoop(?:s|ing)?|shak(?:e|es|ing)|rotat(?:e|es|ing)|spin(?:s|ning)?"
    "|fl(?:y|ies|ying)"
)
_INWARD = rx(*WORDS["inward"])
_OUTWARD = rx(*WORDS["outward"])
_SIDEWAYS = (
    "(?:doll(?:y|ies|ying)|trucks?|trucking|tracks?|tracking|mov(?:e|es|ing)|slid(?:e|es|ing)"
    "|glid(?:e|es|ing)|drift(?:s|ing)?|strafes?|strafing) (?:to the )?"
)
_LEFTWARD = rx(_SIDEWAYS + "left")
_RIGHTWARD = rx(_SIDEWAYS + "right")
_VERTICAL = (
    "(?:tilt(?:s|ing)?|cran(?:e|es|ing)|jib(?:s|bing)?|boom(?:s|ing)?|pedestals?|mov(?:e|es|ing)) "
)
_UPWARD = rx(_VERTICAL + "up(?:ward|wards)?", "ascend(?:s|ing)?")
_CAMERA_UPWARD = _camera_rx("ris(?:e|es|ing)|lift(?:s|ing)?|climb(?:s|ing)?")
_DOWNWARD = rx(_VERTICAL + "down(?:ward|wards)?", "descend(?:s|ing)?")
_CAMERA_DOWNWARD = _camera_rx("lower(?:s|ing)?|drop(?:s|ping)?|sink(?:s|ing)?|dip(?:s|ping)?")
# Only firm words for a camera that never moves: "holds still on her face" after a push-in is
# how the guide wants a move to end, not a contradiction.
_STATIC = rx(*WORDS["static"])
_FIXED_FOCUS = rx(*WORDS["fixed_focus"])
# Each camera_motion setting and the camera words that contradict it. Pans and tilts are
# rotations, not dolly moves, so they do not contradict a sideways dolly.
CAMERA_CONFLICTS: dict[str, tuple[re.Pattern[str], ...]] = {
    "dolly_in": (_OUTWARD, _STATIC),
    "dolly_out": (_INWARD, _STATIC),
    "dolly_left": (_RIGHTWARD, _STATIC),
    "dolly_right": (_LEFTWARD, _STATIC),
    "jib_up": (_DOWNWARD, _CAMERA_DOWNWARD, _STATIC),
    "jib_down": (_UPWARD, _CAMERA_UPWARD, _STATIC),
    "static": (_MOVING, _CAMERA_MOVING),
    "focus_shift": (_FIXED_FOCUS,),
}
_NEGATION = re.compile(
    r"(?<![\w-])(?:not|no|never|without|nor|instead of|rather than)(?![\w-])|n['’]t\b", re.I
)
_CAMERA = re.compile(r"(?<![\w-])(?:camera|lens)(?![\w-])", re.IGNORECASE)


def check_camera_motion(segments: list[Segment], camera_motion: object) -> list[Finding]:
    """A camera_motion setting the camera element contradicts (or, once the final text is
    edited by hand, its sentences naming the camera or lens); "no pans" passes."""
    if camera_motion not in CAMERA_MOTIONS:
        return []  # no setting, or one schemas.validate_request will refuse anyway
    label = str(camera_motion).replace("_", " ")
    findings = []
    for segment in segments:
        if segment.element == "camera":
            sentences = [(0, len(segment.text))]
        elif segment.element == TEXT:
            sentences = [
                (start, end)
                for start, end in sentence_spans(segment.text)
                if _CAMERA.search(segment.masked, start, end)
            ]
        else:
            continue
        for pattern in CAMERA_CONFLICTS[camera_motion]:
            for start, end in hits(pattern, segment):
                if not any(s <= start < e for s, e in sentences) or _negated(segment, start):
                    continue
                message = (
                    f"The camera motion is set to “{label}”, but the description says "
                    f"{quote(segment.text[start:end])}. Make them agree: change the setting or "
                    "the words."
                )
                findings.append(
                    Finding("camera_motion_conflict", message, segment.element, start, end, WARNING)
                )
    return findings


def _negated(segment: Segment, at: int) -> bool:
    """A negation among the three words before `at`, in the same clause."""
    window = max(0, at - 60)  # three words fit in far less
    clause_start = max(segment.masked.rfind(mark, window, at) for mark in ".;:!?,\n") + 1
    last_words = " ".join(segment.masked[max(clause_start, window) : at].split()[-3:])
    return bool(_NEGATION.search(last_words))

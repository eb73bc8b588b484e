"""conflicting_lighting: the guide warns that mixed light logic confuses the scene."""

import re

from generations.prompts.prompting.findings import WARNING, WORDS, Finding, Segment, hits, quote, rx
from generations.prompts.prompting.sentences import sentence_spans

_DAYLIGHT = rx(*WORDS["daylight"])
_NIGHT = rx(*WORDS["night"])
_GOLDEN_HOUR = rx("golden[- ]hour", "magic hour")
_NOON = rx("midday", "noon", "noonday", "high noon")
_CANDLES_ONLY = rx(*WORDS["candles_only"])
_OTHER_LAMPS = rx(*WORDS["other_lamps"])
_HARSH_SUN = rx(
    "blazing sun", "harsh sun(?:light)?", "bright sunshine", "cloudless", "clear blue sky"
)
_OVERCAST = rx("overcast", "cloudy skies?", "heavy clouds", "gr[ae]y sk(?:y|ies)")

# Pairs of light that cannot hold in the same shot. Sunset, sunrise, dusk and dawn are not
# listed: they sit between day and night and usually describe a transition.
_LIGHTING_CONFLICTS = (
    (_DAYLIGHT, _NIGHT),  # "midday sun" with "moonlight"
    (_GOLDEN_HOUR, _NOON),  # low warm sun against the sun overhead
    (_GOLDEN_HOUR, _NIGHT),
    (_CANDLES_ONLY, _DAYLIGHT),  # "lit only by candles" leaves no room for other light
    (_CANDLES_ONLY, _OTHER_LAMPS),
    (_OVERCAST, _HARSH_SUN),  # diffuse light against hard sunlight
)
# Words that turn two kinds of light into a change over time ("noon fades into night").
_TRANSITION = rx(*WORDS["transition"])


def check_lighting(segments: list[Segment]) -> list[Finding]:
    """The guide: "Mixed light logic confuses scene interpretation". Flags the first mention
    of each side of a conflicting pair; a change told in one sentence ("midday sun fades into
    night") passes."""
    findings = []
    for first_kind, second_kind in _LIGHTING_CONFLICTS:
        first = _first_mention(first_kind, segments)
        second = _first_mention(second_kind, segments)
        if first is None or second is None or _is_transition(first, second):
            continue
        for (segment, start, end), (other, other_start, other_end) in (
            (first, second),
            (second, first),
        ):
            message = (
                f"{quote(segment.text[start:end])} and "
                f"{quote(other.text[other_start:other_end])} "
                "suggest different light; mixed light logic confuses the scene. Choose one "
                "lighting situation, or tell the change as it happens."
            )
            findings.append(
                Finding("conflicting_lighting", message, segment.element, start, end, WARNING)
            )
    return findings


_Mention = tuple[Segment, int, int]


def _first_mention(pattern: re.Pattern[str], segments: list[Segment]) -> _Mention | None:
    return next(((s, *span) for s in segments for span in hits(pattern, s)), None)


def _is_transition(first: _Mention, second: _Mention) -> bool:
    """Both mentions in one sentence with a word of change between them."""
    if first[0] is not second[0]:
        return False
    segment = first[0]
    (a_start, a_end), (b_start, b_end) = sorted((first[1:], second[1:]))
    same_sentence = any(
        start <= a_start and b_end <= end for start, end in sentence_spans(segment.text)
    )
    return same_sentence and _TRANSITION.search(segment.masked, a_end, b_start) is not None

"""complex_physics: the guide warns that chaotic motion can introduce artifacts."""

from generations.prompts.prompting.findings import WORDS, Finding, Segment, flag, rx

_COMPLEX_PHYSICS = rx(*WORDS["complex_physics"])


def check_complex_physics(segments: list[Segment]) -> list[Finding]:
    """The guide: "Complex physics - chaotic motion can introduce artifacts (dancing is OK)"."""
    return flag(
        _COMPLEX_PHYSICS,
        segments,
        "complex_physics",
        "asks for complex physics; chaotic motion can introduce artifacts. Keep the motion "
        "simple and legible (dancing is fine).",
    )

"""complex_physics: the guide warns that chaotic motion can introduce artifacts."""

from generations.prompts.prompting.findings import WORDS, Finding, Segment, flag, rx

_STRUCTURES = "(?:building|tower|bridge|wall|roof|ceiling|house|skyscraper)s?"
_COMPLEX_PHYSICS = rx(*WORDS["complex_physics"])


def check_complex_physics(segments: list[Segment]) -> list[Finding]:
    """The guide: "Complex physics - chaotic motion can introduce artifacts (dancing is OK)".

    Flags explosions, shattering, collapsing structures, crashes, juggling, acrobatics, fights,
    natural disasters, eruptions, chaos and chaotically splashing liquids. Dancing, and ordinary
    motion such as rain, waves or a "fight back tears", pass.
    """
    return flag(
        _COMPLEX_PHYSICS,
        segments,
        "complex_physics",
        "asks for complex physics; chaotic motion can introduce artifacts. Keep the motion "
        "simple and legible (dancing is fine).",
    )

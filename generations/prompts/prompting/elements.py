"""The guide's six elements and its "Additional Helpful Terms", as data the form and
the builder page read."""

from __future__ import annotations

from dataclasses import dataclass

# "Key Elements to Include", in the guide's order; compose() follows this order.
ELEMENTS = ("shot", "scene", "action", "characters", "camera", "audio")

ELEMENT_LABELS = {
    "shot": "Shot",
    "scene": "Scene",
    "action": "Action",
    "characters": "Character(s)",
    "camera": "Camera movement",
    "audio": "Audio",
}

ELEMENT_HELP = {
    "shot": "Cinematography terms that match the genre; shot scale or category-specific style.",
    "scene": "Lighting, colour palette, surface textures and atmosphere that set mood and tone.",
    "action": "The core action as a natural sequence, flowing from beginning to end.",
    "characters": (
        "Age, hairstyle, clothing and distinguishing features; emotion through physical cues, "
        "not labels."
    ),
    "camera": "How and when the camera moves, and how the subjects appear after the move.",
    "audio": (
        "Ambient sound, music, speech or singing; dialogue in quotation marks; language and "
        "accent if needed."
    ),
}

# Findings about the final text (rather than one element) name this instead of an element.
TEXT = "text"


@dataclass(frozen=True)
class TermGroup:
    """One group of the guide's "Additional Helpful Terms"."""

    section: str  # the guide's heading above the group, e.g. "Visual Details"
    name: str
    element: str  # the element a chosen term is inserted into
    terms: tuple[str, ...]  # exactly as the guide writes them


HELPFUL_TERMS: tuple[TermGroup, ...] = (
    TermGroup(
        "Categories",
        "Animation",
        "shot",
        ("Stop-motion", "2D / 3D animation", "Claymation", "Hand-drawn"),
    ),
    TermGroup(
        "Categories",
        "Stylized",
        "shot",
        (
            "Comic book",
            "Cyberpunk",
            "8-bit pixel",
            "Surreal",
            "Minimalist",
            "Painterly",
            "Illustrated",
        ),
    ),
    TermGroup(
        "Categories",
        "Cinematic",
        "shot",
        (
            "Period drama",
            "Film noir",
            "Fantasy",
            "Epic space opera",
            "Thriller",
            "Modern romance",
            "Experimental film",
            "Arthouse",
            "Documentary",
        ),
    ),
    TermGroup(
        "Visual Details",
        "Lighting",
        "scene",
        ("Flickering candles", "Neon glow", "Natural sunlight", "Dramatic shadows"),
    ),
    TermGroup(
        "Visual Details",
        "Textures",
        "scene",
        ("Rough stone", "Smooth metal", "Worn fabric", "Glossy surfaces"),
    ),
    TermGroup(
        "Visual Details",
        "Color Palette",
        "scene",
        ("Vibrant", "Muted", "Monochromatic", "High contrast"),
    ),
    TermGroup(
        "Visual Details", "Atmosphere", "scene", ("Fog", "Rain", "Dust", "Smoke", "Particles")
    ),
    TermGroup(
        "Sound and Voice",
        "Ambient Settings",
        "audio",
        ("Coffeeshop noise", "Wind and rain", "Forest ambience with birds"),
    ),
    TermGroup(
        "Sound and Voice",
        "Dialogue Style",
        "audio",
        (
            "Energetic announcer",
            "Resonant voice with gravitas",
            "Distorted radio-style",
            "Robotic monotone",
            "Childlike curiosity",
        ),
    ),
    TermGroup("Sound and Voice", "Volume", "audio", ("Whisper", "Mutter", "Shout", "Scream")),
    TermGroup(
        "Technical Style Markers",
        "Camera Language",
        "camera",
        (
            "Follows",
            "Tracks",
            "Pans across",
            "Circles around",
            "Tilts upward",
            "Pushes in / pulls back",
            "Overhead view",
            "Handheld movement",
            "Over-the-shoulder",
            "Wide establishing shot",
            "Static frame",
        ),
    ),
    TermGroup(
        "Technical Style Markers",
        "Film Characteristics",
        "shot",
        ("Film grain", "Lens flares", "Pixelated edges", "Jittery stop-motion"),
    ),
    TermGroup(
        "Technical Style Markers",
        "Scale Indicators",
        "shot",
        ("Expansive", "Epic", "Intimate", "Claustrophobic"),
    ),
    # Pacing goes with the shot, not the camera: slow motion, time-lapse, cuts, fades and
    # freeze-frames describe how the footage is captured and edited, while the camera element
    # is for how the camera itself moves.
    TermGroup(
        "Technical Style Markers",
        "Pacing & Temporal Effects",
        "shot",
        (
            "Slow motion",
            "Time-lapse",
            "Rapid cuts",
            "Lingering shot",
            "Continuous shot",
            "Freeze-frame",
            "Fade-in / fade-out",
            "Seamless transition",
            "Sudden stop",
        ),
    ),
    TermGroup(
        "Technical Style Markers",
        "Visual Effects",
        "scene",
        ("Particle systems", "Motion blur", "Depth of field"),
    ),
)

"""A structured prompt builder that follows the "Prompting Guide for LTX-2".

The guide (`ltx-2-api-docs.md`) asks for six elements - shot, scene, action, characters,
camera, audio - written as one flowing paragraph of 4-8 present-tense sentences, and lists
what to avoid. This module holds that advice as data and plain functions:

* `compose` joins the elements into that paragraph; `drift` tells whether a hand-edited final
  text has moved away from it.
* `HELPFUL_TERMS` is the guide's "Additional Helpful Terms", each group tied to the element it
  is inserted into.
* `check` reads a prompt and returns advisory `Finding`s, each pointing at the words that
  triggered it so a form can highlight them in place. Nothing here blocks a save.

The checks are heuristics made of word lists and regular expressions, not a language model.
They aim to be right on ordinary prompts and quiet on the near-misses the tests list; each
check's docstring says where it stops. Words inside quotation marks are dialogue and may say
anything in any tense, so every check except the sentence count and the length skips them.

Pure Python with no Django, so views, tasks and tests can all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from generations.ltx.rules import CAMERA_MOTIONS

# -- the six elements ----------------------------------------------------------------------

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


# -- helpful terms -------------------------------------------------------------------------


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


# -- compose and drift ---------------------------------------------------------------------

_TERMINALS = ".!?…。！？"
_CJK_TERMINALS = "。！？"  # these end a sentence with no space after them
_DOUBLE_QUOTES = '"“”„«»'
_CLOSERS = "\"”’'»)]"
_OPENERS = "\"“„«‘'(["
# Dangling punctuation a sentence should not end on; compose() drops it before the full stop.
_TRAILING_JOINERS = ",;:–—-"


def _is_terminal(char: str) -> bool:
    return bool(char) and char in _TERMINALS


def _wordlist(text: str) -> tuple[str, ...]:
    """Word lists are written as plain text, one space between words, to keep them readable."""
    return tuple(text.split())


def _squash(text: str) -> str:
    """Trim and collapse every run of whitespace (newlines included) to one space."""
    return " ".join(text.split())


def _capitalise(text: str) -> str:
    """Capitalise the first letter, after any opening quotes or brackets.

    A first word that already mixes cases ("iPhone", "eBay") is left as written.
    """
    for i, char in enumerate(text):
        if char in _OPENERS:
            continue
        word = re.match(r"\w+", text[i:])
        if char.islower() and not (word and any(c.isupper() for c in word.group())):
            return text[:i] + char.upper() + text[i + 1 :]
        return text
    return text


def _ends_sentence(text: str) -> bool:
    """True when the text ends on terminal punctuation, possibly inside closing quotes."""
    return _is_terminal(text.rstrip(_CLOSERS)[-1:])


def _sentence(text: str) -> str:
    text = _squash(text).rstrip(_TRAILING_JOINERS + " ")
    if not any(char.isalnum() for char in text):
        return ""
    text = _capitalise(text)
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
    return _squash(compose(elements)) != _squash(final_text)


# -- quotations and sentences --------------------------------------------------------------

# Single quotes double as apostrophes ("it's", "the dogs' bowls"), so they only count as a
# clean pair: opening at the start of a word, closing at the end of one, on a single line.
# A single-quoted line longer than 500 characters is not looked for: the bound keeps the search
# linear on text full of apostrophes.
_SINGLE_QUOTED = re.compile(r"(?<!\w)[‘'](?=\S)[^\n]{0,500}?(?<=\S)[’'](?!\w)")


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words inside each quotation, quote marks excluded.

    Double quotes (straight or typographic, in any direction) open and close in turn; a quote
    left open runs to the end of the text. Single quotes count where they pair up cleanly
    outside double quotes (see `_SINGLE_QUOTED`).
    """
    spans = []
    opened = None
    for i, char in enumerate(text):
        if char in _DOUBLE_QUOTES:
            if opened is None:
                opened = i
            else:
                spans.append((opened + 1, i))
                opened = None
    if opened is not None:
        spans.append((opened + 1, len(text)))
    blanked = list(text)
    for start, end in spans:
        blanked[start - 1 : end + 1] = "\n" * len(blanked[start - 1 : end + 1])
    for match in _SINGLE_QUOTED.finditer("".join(blanked)):
        spans.append((match.start() + 1, match.end() - 1))
    return sorted(spans)


def _mask_quotes(text: str) -> str:
    """The text with quoted words blanked to spaces; quote marks and offsets stay put."""
    chars = list(text)
    for start, end in quoted_spans(text):
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# Words whose full stop does not end a sentence ("Mr. Lee", "EXT. STREET", "e.g. fog").
_ABBREVIATIONS = frozenset(
    _wordlist("mr mrs ms dr prof st jr sr lt sgt capt gen col mt vs approx fig int ext e.g i.e")
)


def _starts_sentence(text: str, at: int) -> bool:
    """Whether what follows position `at` reads as the start of a new sentence.

    Skips spaces and opening quotes/brackets; a lowercase letter or a comma-like mark means the
    sentence carries on ("...wait... there", "“Hello!” she says"), anything else starts anew.
    """
    while at < len(text) and (text[at].isspace() or text[at] in _OPENERS):
        at += 1
    return at == len(text) or not (text[at].islower() or text[at] in ",;:–—-")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed of surrounding whitespace.

    The rules, pragmatic rather than linguistic:

    * `.`, `!`, `?`, `…` (or a run like `...` / `?!`) end a sentence when followed by
      whitespace (or the end) and then not by a lowercase letter - so "2.5", "e.g. the" and a
      trailing ellipsis that carries on do not split. A full stop after a known abbreviation
      ("Mr.", "EXT.") or a single capital initial ("J. Smith") does not split either.
    * Quoted words never split a sentence inside. A quotation ending in terminal punctuation
      ends the sentence when what follows starts a new one (“We are one.” All the frogs...),
      but not when the sentence carries on (“Stop!” she shouts).
    * A line break ends a sentence when the line has no terminal punctuation (a scene heading)
      and the next line starts anew - unless the line ends in `:` `,` `;` or a dash, which
      introduce what follows ("Reporter (live):" before a quoted line).
    * `。！？` always end a sentence. A piece with no letter or digit is not a sentence.
    """
    inside = [False] * len(text)
    closing_marks = {}
    for start, end in quoted_spans(text):
        inside[start:end] = [True] * (end - start)
        if end < len(text):
            closing_marks[end] = start
    cuts = []
    i = 0
    while i < len(text):
        char = text[i]
        if inside[i]:
            i += 1
            continue
        if char in _TERMINALS:
            j = i
            while j < len(text) and text[j] in _TERMINALS and not inside[j]:
                j += 1
            run = text[i:j]
            j = _skip(text, j, ")]")
            if _stop_ends_sentence(text, run, start=i, end=j):
                cuts.append(j)
            i = j
            continue
        if i in closing_marks:
            quoted = text[closing_marks[i] : i].rstrip()
            j = _skip(text, i + 1, _CLOSERS)
            if _is_terminal(quoted[-1:]) and _starts_sentence(text, j):
                cuts.append(j)
            i = j
            continue
        if char == "\n":
            end = _last_visible(text, i)
            last = text[end - 1 : end]
            ended = _is_terminal(last) or (
                last in _DOUBLE_QUOTES + "’'"
                and _is_terminal(text[_last_visible(text, end - 1) - 1 : end - 1][-1:])
            )
            if end and not ended and last not in ":,;–—-" and _starts_sentence(text, i):
                cuts.append(end)
        i += 1
    spans = []
    start = 0
    for cut in [*sorted(set(cuts)), len(text)]:
        piece = text[start:cut]
        if any(c.isalnum() for c in piece):
            left = start + len(piece) - len(piece.lstrip())
            spans.append((left, start + len(piece.rstrip())))
        start = cut
    return spans


def _last_visible(text: str, at: int) -> int:
    """The end of the text before `at` once trailing whitespace is dropped."""
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return at


def _skip(text: str, at: int, chars: str) -> int:
    while at < len(text) and text[at] in chars:
        at += 1
    return at


def _stop_ends_sentence(text: str, run: str, *, start: int, end: int) -> bool:
    """Whether the terminal punctuation `run`, at text[start:end], ends a sentence."""
    if any(char in _CJK_TERMINALS for char in run):
        return True
    if end < len(text) and not text[end].isspace():
        return False  # "2.5", "e.g.", "example.com"
    word_start = start
    while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] in "._"):
        word_start -= 1
    word = text[word_start:start]
    if run == "." and (word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())):
        return False
    return _starts_sentence(text, end)


# -- findings ------------------------------------------------------------------------------

WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One piece of advice from check(). Advisory only: nothing here blocks a save."""

    code: str  # stable identifier, e.g. "emotion_label"
    message: str  # a short explanation and what to do instead
    element: str  # the element holding the triggering words, or TEXT for the final text
    start: int | None  # offsets of the triggering words in that text; None for the whole text
    end: int | None
    severity: str  # WARNING or INFO


class _Segment(NamedTuple):
    """One text a check reads: an element's text, or the final text."""

    element: str
    text: str
    masked: str  # the same text with quoted words blanked out


def _segment(element: str, text: str) -> _Segment:
    return _Segment(element, text, _mask_quotes(text))


# "won't", "he'd", "she'll": a contraction makes a different word ("won" is not "won't"). A
# possessive "'s" does not ("the crowd's roar" still mentions a crowd).
_CONTRACTION = r"['’](?:t|d|ll|re|ve|m)(?!\w)"


def _rx(*fragments: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive alternatives; a space in a fragment matches any whitespace.

    A word joined by a hyphen is not a whole word here, so "sad-eyed" or "night-vision" do
    not match "sad" or "night"; nor is a word cut short by a contraction (see _CONTRACTION).
    A fragment may name a `hit` group to narrow the highlight.
    """
    alternatives = "|".join(fragment.replace(" ", r"\s+") for fragment in fragments)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-]|{_CONTRACTION})", re.IGNORECASE)


def _hits(pattern: re.Pattern[str], segment: _Segment) -> Iterator[tuple[int, int]]:
    """Spans of the pattern's matches outside quotations (the `hit` group where it has one)."""
    for match in pattern.finditer(segment.masked):
        group = "hit" if "hit" in pattern.groupindex and match.group("hit") else 0
        yield match.span(group)


def _quote(words: str) -> str:
    return f"“{_squash(words)}”"


def _previous_word(text: str, at: int) -> str:
    """The word before `at` in the same sentence, lowercased ("" if none)."""
    match = re.search(r"([\w'’-]+)[^\w.!?;:\n]*$", text[max(0, at - 80) : at])
    return match.group(1).lower() if match else ""


# -- sentence_count and too_long (the final text as a whole) --------------------------------

MIN_SENTENCES = 4
MAX_SENTENCES = 8


def _check_sentence_count(final_text: str) -> list[Finding]:
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


def _check_too_long(final_text: str) -> list[Finding]:
    words = _word_count(final_text)
    if words <= LONG_WORDS:
        return []
    severity = WARNING if words > TOO_LONG_WORDS else INFO
    message = (
        f"About {words} words — longer than the guide's own samples (about 150–240). "
        "Start simple and layer complexity gradually: keep the 4–8 sentences that matter most."
    )
    return [Finding("too_long", message, TEXT, None, None, severity)]


# -- tense ---------------------------------------------------------------------------------

# Simple-past forms that are never anything else in a prompt, flagged wherever they stand.
_PAST_ANYWHERE = _rx(
    *_wordlist(
        "was were wasn['’]t weren['’]t didn['’]t hadn['’]t did went came became began ran ate "
        "drank sang swam wrote drove rode woke chose froze shook forgot flew grew threw knew "
        "blew gave took sat said"
    )
)
# Past forms that double as adjectives, participles or nouns ("tired eyes", "a dimly lit
# room", "a felt hat", "turns left", "a man dressed in black", "Drew"), flagged only straight
# after a subject pronoun, optionally with one adverb between ("she slowly walked"). Nouns as
# subjects ("the man walked") are left alone: "a man dressed in black" has the same shape.
_SUBJECT_PAST = _rx(
    r"(?:he|she|they|we|i|who) (?:(?:[a-z]+ly|then|just|also|still|soon|once) )?"
    r"(?P<hit>[a-z]{2,}ed|had|felt|left|saw|rose|drew|stole|fell|heard|held|kept|made|met|lit"
    r"|found|led|lost|brought|caught|sent|stood|struck|hung|built|thought|sold|won|slept|wept"
    r"|crept|knelt|leapt|spoke|hid|tore|wore|bore|got|told|bought|fought|taught|sought|meant"
    r"|spent|slid|spun|swung|stuck|paid|laid|fled|sank|sprang|rang|clung|dealt|bent|dug|fed)"
)
# Present-tense words that end in -ed all the same.
_NOT_PAST = re.compile(r"(?:eed|shed|sled|embed)$", re.IGNORECASE)
_WILL = _rx(r"will(?: not| never)? (?P<verb>[a-z]+)", r"won['’]t [a-z]+", r"[a-z]+['’]ll", "gonna")
# "Free will", "against her will", "the will to live": a noun, not the future.
_WILL_NOUN_BEFORE = frozenset(
    _wordlist(
        "the a an his her their its my your our free good ill own of against at by with iron "
        "strong sheer"
    )
)
_WILL_NOUN_AFTER = frozenset(
    _wordlist("and or to of but power that which the a an as in on is for with")
)
_GOING_TO = _rx(r"(?:is|are|am|[a-z]+['’](?:s|re|m)) (?P<hit>going to (?P<verb>[a-z]+))")
# "She is going to the market" is present progressive, not the future.
_GOING_PLACES = frozenset(
    _wordlist(
        "the a an his her their its my your our this that bed school work church town sea class"
    )
)


def _check_tense(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Use present tense verbs for action and movement".

    Flags unambiguous simple-past forms anywhere, other past forms after a subject pronoun,
    and the future ("will turn", "she'll turn", "is going to turn", "gonna"). Present
    perfect ("has walked") is present tense and passes; so does "would". Dialogue may be in
    any tense.
    """
    findings = []
    for segment in segments:
        for start, end in _hits(_PAST_ANYWHERE, segment):
            findings.append(_tense_finding(segment, start, end, future=False))
        for start, end in _hits(_SUBJECT_PAST, segment):
            if not _NOT_PAST.search(segment.text[start:end]):
                findings.append(_tense_finding(segment, start, end, future=False))
        for match in _WILL.finditer(segment.masked):
            verb = (match.group("verb") or "").lower()
            before = _previous_word(segment.masked, match.start())
            if verb in _WILL_NOUN_AFTER or before in _WILL_NOUN_BEFORE:
                continue
            findings.append(_tense_finding(segment, *match.span(), future=True))
        for match in _GOING_TO.finditer(segment.masked):
            if match.group("verb").lower() not in _GOING_PLACES:
                findings.append(_tense_finding(segment, *match.span("hit"), future=True))
    return findings


def _tense_finding(segment: _Segment, start: int, end: int, *, future: bool) -> Finding:
    words = _quote(segment.text[start:end])
    if future:
        message = (
            f"{words} is the future tense. Describe what happens as it happens, in the present "
            "tense (“she turns”, not “she will turn”)."
        )
    else:
        message = (
            f"{words} is the past tense. Use present-tense verbs for action and movement "
            "(“walks”, not “walked”)."
        )
    return Finding("tense", message, segment.element, start, end, WARNING)


# -- emotion_label -------------------------------------------------------------------------

# Labels of inner states, each group with physical cues to show instead. Not on the list:
# words the guide itself uses for looks and voices ("calm", "serene", "childlike curiosity"),
# and words that are mostly physical ("tense", "tired", "tearful").
_EMOTIONS = {
    "downcast eyes, slumped shoulders, a trembling lip": (
        "sad sadness unhappy unhappiness depressed depression miserable melancholy melancholic "
        "sorrow sorrowful grief heartbroken lonely loneliness hopeless despair disappointed "
        "disappointment regretful nostalgic upset"
    ),
    "a broad smile, bright eyes, bouncing on the heels": (
        "happy happiness joy joyful joyous glad cheerful delighted elated ecstatic thrilled "
        "excited excitement hopeful relieved amused"
    ),
    "a clenched jaw, a furrowed brow, tight fists": (
        "angry anger furious fury rage enraged annoyed irritated frustrated frustration "
        "resentful jealous jealousy envious disgusted"
    ),
    "wide eyes, shallow breaths, fidgeting hands": (
        "scared afraid frightened fearful terrified anxious anxiety nervous nervousness worried "
        "uneasy stressed panicked insecure overwhelmed"
    ),
    "a tilted head, narrowed eyes, a slow blink": "confused confusion puzzled bewildered perplexed",
    "a slouch, a chin resting on one hand, a long sigh": "bored boredom",
    "a lowered head, averted eyes, flushed cheeks": (
        "embarrassed embarrassment ashamed shame guilty guilt humiliated"
    ),
}
_EMOTION_HINTS = {word: cues for cues, words in _EMOTIONS.items() for word in words.split()}
_EMOTION = _rx(*_EMOTION_HINTS)


def _check_emotion_labels(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Express emotion through physical cues, not abstract labels".

    Whole words only: "Sadie" is not "sad", and hyphenated compounds ("sad-eyed") describe a
    look. A capitalised label mid-sentence is taken for a name or title ("Joy", "Happy
    Birthday") and left alone.
    """
    findings = []
    for segment in segments:
        for start, end in _hits(_EMOTION, segment):
            word = segment.text[start:end]
            if word[0].isupper() and not word.isupper() and not _at_sentence_start(segment, start):
                continue
            message = (
                f"{_quote(word)} names an inner feeling the camera cannot see. Show it through "
                f"physical cues instead — for example {_EMOTION_HINTS[word.lower()]}."
            )
            findings.append(Finding("emotion_label", message, segment.element, start, end, WARNING))
    return findings


def _at_sentence_start(segment: _Segment, at: int) -> bool:
    at = _last_visible(segment.text, at)
    while at and segment.text[at - 1] in _OPENERS:
        at = _last_visible(segment.text, at - 1)
    return at == 0 or segment.text[at - 1] in _TERMINALS + ":" + _CLOSERS


# -- readable_text -------------------------------------------------------------------------

_TEXT_BEARERS = (
    "signs? signboards? banners? posters? placards? billboards? labels? plaques? notes? "
    "screens? boards? shirts? t-shirts? cards? menus? text tattoos? neon"
)
_TEXT_BEARER = _rx(*_TEXT_BEARERS.split())
_READABLE_TEXT = _rx(
    "logos?",
    "captions?",
    "subtitles?",
    "subtitled",
    "title cards?",
    "on-screen text",
    "lettering",
    "inscriptions?",
    "typography",
    "watermarks?",
    "headlines?",
    "written",
    "scrawled",
    "spel(?:led|t|ling|ls) out",
    "(?:that|which) (?:reads|says|spells(?: out)?)",
    rf"(?:{'|'.join(_TEXT_BEARERS.split())}) (?:reads|reading|says|saying|displays|displaying)",
    "(?:with )?the words?(?=\\s*[\"“‘'])",
    "(?:with )?the words?(?=\\s+(?-i:[A-Z]))",
)


def _check_readable_text(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Text and logos - readable text is not currently reliable".

    Flags requests for legible words: logos, captions, subtitles, "a sign that reads", "the
    word HOPE", "written on". A sign or a poster without asked-for words passes.
    """
    findings = []
    for segment in segments:
        for start, end in _hits(_READABLE_TEXT, segment):
            message = (
                f"{_quote(segment.text[start:end])} asks for readable text, which LTX-2 does not "
                "render reliably. Describe the object without legible words (“a weathered shop "
                "sign”), or add the text in editing."
            )
            findings.append(Finding("readable_text", message, segment.element, start, end, WARNING))
    return findings


# -- crowding ------------------------------------------------------------------------------

MAX_CHARACTERS = 3
_PEOPLE = _wordlist(
    "man men woman women boy boys girl girls child children kid kids person persons people guy "
    "guys lady ladies gentleman gentlemen teenager teenagers teen teens baby babies toddler "
    "toddlers friend friends stranger strangers soldier soldiers worker workers dancer dancers "
    "musician musicians singer singers reporter reporters officer officers doctor doctors nurse "
    "nurses student students player players runner runners figure figures customer customers "
    "passenger passengers tourist tourists villager villagers warrior warriors knight knights "
    "detective detectives chef chefs waiter waiters waitress waitresses driver drivers twins "
    "siblings brother brothers sister sisters mother mothers father fathers businessman "
    "businessmen businesswoman businesswomen athlete athletes couple(?!\\s+of)"
)
_PERSON = _rx(*_PEOPLE)
_PERSON_WORDS = frozenset(word for word in _PEOPLE if word.isalpha())
_PAIRS = frozenset({"couple", "twins"})  # "a couple", "a pair of twins": two people
_QUANTITIES = {
    **dict.fromkeys(("a", "an", "one", "another"), 1),
    **{
        word: n
        for n, word in enumerate(
            _wordlist("two three four five six seven eight nine ten eleven twelve"), start=2
        )
    },
    "pair": 2,
    "couple": 2,
    "few": 3,
    "several": 3,
    "group": 3,
    "trio": 3,
    "team": 3,
    "band": 3,
    "family": 3,
    "gang": 3,
}
# Words that end the look-back from a person noun to its quantity: "the man" is someone
# already introduced, "one of the men" too, and crowd words are handled as crowds.
_QUANTITY_STOPS = frozenset(
    _wordlist(
        "and or but nor with while as then by to from for near beside behind at in on into onto "
        "under over who that which the his her their its this these those my your our dozens "
        "hundreds thousands scores many countless numerous crowd crowds throng horde"
    )
)
_CROWD = _rx(
    "crowds?",
    "crowded",
    "throngs?",
    "hordes?",
    "mobs?",
    "(?:dozens|hundreds|thousands|scores) of",
    "(?:countless|many|lots of) people",
    "a sea of people",
    "packed with people",
)
# Words that put actions side by side. "as" counts only before a subject ("as the camera
# pans", "as she turns"); "dressed as a pirate" or "such as" do not.
_SIMULTANEOUS = _rx(
    "while",
    "whilst",
    "meanwhile",
    "simultaneously",
    "at the same time",
    "all at once",
    r"as(?= (?:the|his|her|their|its|he|she|they|it|we)(?![\w-]))",
)
_NOT_SIMULTANEOUS_BEFORE_AS = frozenset(_wordlist("such well soon long much same just"))


def _check_crowding(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Too many characters or actions reduce clarity".

    Three signs of an overloaded scene:
    * more than MAX_CHARACTERS people introduced ("a man", "two women", "a group of friends"
      counts three) - a warning at the introduction that goes over. Animals and creatures are
      not counted, and a character introduced twice (once per element) counts twice, which
      the limit's slack absorbs;
    * crowd words ("a crowd", "dozens of") - info, since a background crowd can work;
    * a sentence with two or more of "while", "meanwhile", "simultaneously", "as the..." -
      three or more things at once - a warning at each of those words.
    """
    findings = []
    total = 0
    over = None
    for segment in segments:
        for match in _PERSON.finditer(segment.masked):
            count, start = _introduction(segment.masked, match)
            if not count:
                continue
            total += count
            if total > MAX_CHARACTERS and over is None:
                over = (segment.element, start, match.end())
        for start, end in _hits(_CROWD, segment):
            message = (
                f"{_quote(segment.text[start:end])}: crowds are hard to render clearly. Keep the "
                "focus on one to three characters and leave the crowd in the background."
            )
            findings.append(Finding("crowding", message, segment.element, start, end, INFO))
        all_markers = [
            (start, end)
            for start, end in _hits(_SIMULTANEOUS, segment)
            if _previous_word(segment.masked, start) not in _NOT_SIMULTANEOUS_BEFORE_AS
        ]
        for sentence_start, sentence_end in sentence_spans(segment.text) if all_markers else ():
            markers = [m for m in all_markers if sentence_start <= m[0] < sentence_end]
            if len(markers) < 2:
                continue
            for start, end in markers:
                message = (
                    f"{len(markers) + 1} or more things happen at once in this sentence; too many "
                    "simultaneous actions reduce clarity. Let them follow one another."
                )
                findings.append(Finding("crowding", message, segment.element, start, end, WARNING))
    if over is not None:
        message = (
            f"About {total} people are introduced; too many characters reduce clarity. The model "
            "does best with one to three — focus on them and leave the rest out."
        )
        findings.append(Finding("crowding", message, *over, WARNING))
    return findings


def _introduction(masked: str, match: re.Match[str]) -> tuple[int, int]:
    """How many people a person noun introduces, and where its quantity starts.

    Looks back up to five words in the same clause for a quantity ("a", "two", "a group
    of"); none, or a stop word first, means the person was introduced before (0).
    """
    window = max(0, match.start() - 100)  # five words fit in far less
    clause_start = max(masked.rfind(mark, window, match.start()) for mark in ".;:!?()\n") + 1
    clause_start = max(clause_start, window)
    words = list(re.finditer(r"[\w'’-]+", masked[clause_start : match.start()]))[-5:]
    noun = match.group().lower()
    for word in reversed(words):
        token = word.group().lower()
        if token in _QUANTITY_STOPS or token in _PERSON_WORDS:
            return 0, match.start()
        # Six digits are plenty to tell "more than three", and keep int() off huge numbers.
        count = int(token[:6]) if token.isdecimal() else _QUANTITIES.get(token)
        if count:
            if noun in _PAIRS and count == 1:
                count = 2
            return count, clause_start + word.start()
    return 0, match.start()


# -- conflicting_lighting ------------------------------------------------------------------

_DAYLIGHT = _rx(
    "(?:midday|noon|noonday|bright|blazing|harsh) sun",
    "high noon",
    "midday",
    "noon",
    "noonday",
    "(?:broad|bright) daylight",
    "daylight",
    "daytime",
    "sunlit",
    "sunlight",
    "sunshine",
)
_NIGHT = _rx(
    "nights?",
    "night-time",
    "nighttime",
    "midnight(?! blue)",
    "moonlight",
    "moonlit",
    "starlight",
    "starlit",
    "pitch[- ](?:black|dark)",
    "(?:total|complete|pitch) darkness",
)
_GOLDEN_HOUR = _rx("golden[- ]hour", "magic hour")
_NOON = _rx("midday", "noon", "noonday", "high noon")
_CANDLES_ONLY = _rx(
    "(?:lit|illuminated) (?:only|solely|entirely|just) by (?:a single |flickering )?"
    "candle(?:s|light)?",
    "candle(?: )?light only",
    "only (?:by )?candle(?: )?light",
    "(?:only|sole) light (?:source )?(?:is|comes from) (?:a |the )?(?:single )?candle(?:s|light)?",
)
_OTHER_LAMPS = _rx(
    "neon",
    "fluorescent",
    "spotlights?",
    "floodlights?",
    "streetlights?",
    "street lamps?",
    "lamplight",
    "headlights",
)
_HARSH_SUN = _rx(
    "blazing sun", "harsh sun(?:light)?", "bright sunshine", "cloudless", "clear blue sky"
)
_OVERCAST = _rx("overcast", "cloudy skies?", "heavy clouds", "gr[ae]y sk(?:y|ies)")

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
_TRANSITION = _rx(
    "until",
    "becomes?",
    "(?:turns?|fades?|shifts?|transitions?|dissolves?) (?:in)?to",
    "gives? way to",
    "then",
)


def _check_lighting(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Mixed light logic confuses scene interpretation".

    For each pair in _LIGHTING_CONFLICTS whose two kinds of light are both mentioned (in any
    elements), flags the first mention of each, naming the other. A change of light told in
    one sentence ("midday sun fades into night") is a transition and passes.
    """
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
                f"{_quote(segment.text[start:end])} and "
                f"{_quote(other.text[other_start:other_end])} "
                "suggest different light; mixed light logic confuses the scene. Choose one "
                "lighting situation, or tell the change as it happens."
            )
            findings.append(
                Finding("conflicting_lighting", message, segment.element, start, end, WARNING)
            )
    return findings


_Mention = tuple[_Segment, int, int]


def _first_mention(pattern: re.Pattern[str], segments: list[_Segment]) -> _Mention | None:
    for segment in segments:
        for start, end in _hits(pattern, segment):
            return segment, start, end
    return None


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


# -- complex_physics -----------------------------------------------------------------------

_STRUCTURES = "(?:building|tower|bridge|wall|roof|ceiling|house|skyscraper)s?"
_COMPLEX_PHYSICS = _rx(
    "explosions?",
    "explod(?:e|es|ed|ing)",
    "detonat(?:e|es|ing|ion|ions)",
    "blow(?:s|ing)? up",
    "shatter(?:s|ing)?",
    "smash(?:es|ing)? (?:into|through)",
    "(?:car|plane|train) crash(?:es)?",
    "crash(?:es|ing)? through",
    "collid(?:e|es|ing)",
    "collisions?",
    "debris",
    "juggl(?:e|es|ing|er|ers)",
    "acrobat(?:s|ic|ics)",
    "back(?: |-)?flips?",
    "somersault(?:s|ing)?",
    "cartwheel(?:s|ing)?",
    "parkour",
    "fight scenes?",
    "(?:fist|sword|gun)(?: |-)?fights?",
    "brawl(?:s|ing)?",
    "martial arts",
    "kung fu",
    "fights?(?! back)",
    "fighting(?! back)",
    "stampedes?",
    "avalanches?",
    "tornado(?:es)?",
    "earthquakes?",
    "tsunamis?",
    "erupt(?:s|ing|ion)?",
    f"{_STRUCTURES} (?:collapses?|collapsing|crumbles?|crumbling)",
    f"(?:collapsing|crumbling) {_STRUCTURES}",
    "chaos",
    "chaotic(?:ally)?",
    "(?:splash|splashes|splashing|spray|sprays|spraying|spill|spills|spilling) "
    "(?:everywhere|wildly|violently|chaotically)",
)


def _check_complex_physics(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Complex physics - chaotic motion can introduce artifacts (dancing is OK)".

    Flags explosions, shattering, collapsing structures, crashes, juggling, acrobatics, fights,
    natural disasters, eruptions, chaos and chaotically splashing liquids. Dancing, and ordinary
    motion such as rain, waves or a "fight back tears", pass.
    """
    findings = []
    for segment in segments:
        for start, end in _hits(_COMPLEX_PHYSICS, segment):
            message = (
                f"{_quote(segment.text[start:end])} asks for complex physics; chaotic motion can "
                "introduce artifacts. Keep the motion simple and legible (dancing is fine)."
            )
            findings.append(
                Finding("complex_physics", message, segment.element, start, end, WARNING)
            )
    return findings


# -- unquoted_speech -----------------------------------------------------------------------

# "Sing" and "chant" are not here: what follows them is usually a genre ("sings opera").
_SPEECH_VERB = _rx(
    "say(?:s|ing)?",
    "said",
    "shout(?:s|ing|ed)?",
    "yell(?:s|ing|ed)?",
    "whisper(?:s|ing|ed)?",
    "scream(?:s|ing|ed)?",
    "mutter(?:s|ing|ed)?",
    "murmur(?:s|ing|ed)?",
    "mumbl(?:e|es|ing|ed)",
    "exclaim(?:s|ing|ed)?",
    "announc(?:e|es|ing|ed)",
    "ask(?:s|ing|ed)?",
    "repl(?:y|ies|ying|ied)",
    "answer(?:s|ing|ed)?",
    "repeat(?:s|ing|ed)?",
    "(?:call|calls|calling|called|cry|cries|crying|cried) out",
)
# Words after a speech verb that start something other than the spoken words themselves: a
# preposition ("shouts over the noise"), an object ("answers the phone", "asks him"), indirect
# speech ("says that", "asks where") or a generic noun ("asks questions", "shouts orders").
# Auxiliaries are not on the list: "asks are you okay" is a question asked aloud.
_NOT_SPOKEN = frozenset(
    _wordlist(
        "a an the this that these those his her their its my your our some any every each no "
        "him them me us it to at over into in on with from for toward towards across through "
        "under above below behind beside near along back out up down off around about after "
        "before between during without like as than upon against among and or but then while "
        "when where what why how who whom whose which whether if because so until though "
        "although something nothing anything everything again aloud loud louder once twice too "
        "also still together alone only just now already almost even more less very words word "
        "question questions name names news prayer prayers joke jokes story stories line lines "
        "lyrics orders commands instructions greetings secrets help directions permission"
    )
)
_DETERMINERS = frozenset(_wordlist("the a an his her their its my your our this"))
_QUOTE_MARKS = _DOUBLE_QUOTES + "‘'"
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Spoken words run to the end of the clause. Apostrophes stay inside ("don't go").
_CLAUSE = re.compile(r"[^.!?;,:\n()—–\"“”„«»‘]*")


def _check_unquoted_speech(segments: list[_Segment]) -> list[Finding]:
    """The guide: "Place spoken dialogue in quotation marks".

    After a speech verb (and any -ly adverbs), the next thing should be a quotation. Flags
    the words that follow instead: after a colon, anything ("says: we are one"); otherwise
    words that are not a preposition, object or indirect speech (see _NOT_SPOKEN), nor an
    -ing phrase ("whispers, leaning closer"). A verb used as a noun ("a whisper") or after a
    sign ("the sign says", a readable_text matter) passes. Speaker tags in script style
    ("Reporter: Thank you") are not detected.
    """
    findings = []
    for segment in segments:
        for match in _SPEECH_VERB.finditer(segment.masked):
            before = _previous_word(segment.masked, match.start())
            if before in _DETERMINERS or _TEXT_BEARER.fullmatch(before):
                continue
            span = _spoken_words(segment.masked, match.end())
            if span is None:
                continue
            start, end = span
            stop = segment.text[end : end + 1] if segment.text[end : end + 1] in "!?" else "."
            message = (
                f"{_quote(segment.text[start:end])} reads as spoken words without quotation "
                "marks. Put dialogue in quotes so the model voices it — e.g. "
                f"{_squash(segment.text[match.start() : match.end()])} "
                f"“{_capitalise(_squash(segment.text[start:end]))}{stop}”"
            )
            findings.append(
                Finding("unquoted_speech", message, segment.element, start, end, WARNING)
            )
    return findings


def _spoken_words(masked: str, at: int) -> tuple[int, int] | None:
    """The span of unquoted words spoken after a speech verb ending at `at`, if any."""
    for _ in range(3):  # skip adverbs: "answers softly", "says quietly"
        word = _WORD.match(masked, _skip(masked, at, " \t\n"))
        if not (word and word.group().lower().endswith("ly")) or len(word.group()) < 4:
            break
        at = word.end()
    at = _skip(masked, at, " \t")
    mark = masked[at : at + 1]
    if not mark or mark.isspace() or mark in _QUOTE_MARKS:
        return None
    if mark in (":", ","):
        at = _skip(masked, at + 1, " \t\n")
        if masked[at : at + 1] in tuple(_QUOTE_MARKS):
            return None
        if mark == "," and re.match(r"[^.!?\n]*[\"“”„«»‘]", masked[at:]):
            return None  # "she says, smiling, “hi”"
    word = _WORD.match(masked, at)
    if word is None:
        return None
    token = word.group().lower()
    if mark != ":" and (
        token in _NOT_SPOKEN
        or token.endswith("ing")
        or re.search(r"['’]s$", token)
        or _SPEECH_VERB.fullmatch(token)  # a list of ways to speak: "whisper, shout"
    ):
        return None
    end = at + len(_CLAUSE.match(masked, at).group().rstrip())
    return (at, end) if end > at else None


# -- camera_motion_conflict ----------------------------------------------------------------


def _camera_rx(verbs: str) -> re.Pattern[str]:
    """Generic movement verbs ("moves", "rises") count as camera moves only right after
    "camera" or "lens" (two words may come between); the hit is the verb alone."""
    return _rx(f"(?:camera|lens)(?: [\\w-]+){{0,2}}? (?P<hit>{verbs})")


_MOVING = _rx(
    "pan(?:s|ning|ned)?",
    "whip pans?",
    "tilt(?:s|ing|ed)?",
    "track(?:s|ing)?",
    "follow(?:s|ing)?",
    "doll(?:y|ies|ying)",
    "push(?:es|ing)? (?:in|forward|closer)",
    "push-in",
    "pull(?:s|ing)? (?:back|out|away)",
    "pull-back",
    "zoom(?:s|ing)?",
    "cran(?:e|es|ing)",
    "jib(?:s|bing)?",
    "orbit(?:s|ing)?",
    "(?:circl|arc)(?:e|es|ing|s)? around",
    "hand-?held",
    "truck(?:s|ing)?",
    "fly-through",
    "fpv",
)
_CAMERA_MOVING = _camera_rx(
    "mov(?:e|es|ing)|ris(?:e|es|ing)|descend(?:s|ing)?|drift(?:s|ing)?|glid(?:e|es|ing)"
    "|sweep(?:s|ing)?|swoop(?:s|ing)?|shak(?:e|es|ing)|rotat(?:e|es|ing)|spin(?:s|ning)?"
    "|fl(?:y|ies|ying)"
)
_INWARD = _rx(
    "push(?:es|ing)? (?:in|forward|closer)",
    "push-in",
    "doll(?:y|ies|ying) (?:in|forward|closer|toward|towards)",
    "zoom(?:s|ing)? in",
    "(?:mov(?:e|es|ing)|creep(?:s|ing)?|drift(?:s|ing)?|glid(?:e|es|ing)) "
    "(?:in|closer|forward|toward|towards)",
    "clos(?:es|ing) in",
    "approach(?:es|ing)?",
)
_OUTWARD = _rx(
    "pull(?:s|ing)? (?:back|out|away)",
    "pull-back",
    "doll(?:y|ies|ying) (?:out|back|backward|backwards|away)",
    "zoom(?:s|ing)? out",
    "(?:mov(?:e|es|ing)|drift(?:s|ing)?|glid(?:e|es|ing)|backs?|backing) "
    "(?:back|away|backward|backwards|out)",
    "retreat(?:s|ing)?",
    "widen(?:s|ing)?",
)
_SIDEWAYS = (
    "(?:doll(?:y|ies|ying)|trucks?|trucking|tracks?|tracking|mov(?:e|es|ing)|slid(?:e|es|ing)"
    "|glid(?:e|es|ing)|drift(?:s|ing)?|strafes?|strafing) (?:to the )?"
)
_LEFTWARD = _rx(_SIDEWAYS + "left")
_RIGHTWARD = _rx(_SIDEWAYS + "right")
_VERTICAL = (
    "(?:tilt(?:s|ing)?|cran(?:e|es|ing)|jib(?:s|bing)?|boom(?:s|ing)?|pedestals?|mov(?:e|es|ing)) "
)
_UPWARD = _rx(_VERTICAL + "up(?:ward|wards)?", "ascend(?:s|ing)?")
_CAMERA_UPWARD = _camera_rx("ris(?:e|es|ing)|lift(?:s|ing)?|climb(?:s|ing)?")
_DOWNWARD = _rx(_VERTICAL + "down(?:ward|wards)?", "descend(?:s|ing)?")
_CAMERA_DOWNWARD = _camera_rx("lower(?:s|ing)?|drop(?:s|ping)?|sink(?:s|ing)?|dip(?:s|ping)?")
# Only firm words for a camera that never moves: "holds still on her face" after a push-in is
# how the guide wants a move to end, not a contradiction.
_STATIC = _rx(
    "static",
    "locked[- ]off",
    "stationary",
    "tripod",
    "fixed camera",
    "(?:does not|doesn['’]t|never) move",
    "no camera movement",
)
_FIXED_FOCUS = _rx(
    "deep focus",
    "fixed focus",
    "everything (?:stays |remains )?(?:in focus|sharp)",
    "focus (?:stays|remains) (?:fixed|locked)",
)
# Each camera_motion setting (rules.CAMERA_MOTIONS) and the camera words that contradict it:
#   dolly_in / dolly_out     the opposite move (pulls back, dolly out, zooms out / pushes in,
#                            dolly in, zooms in, moves closer) or a static camera
#   dolly_left / dolly_right a sideways move the other way (dolly/truck/track/move right...)
#                            or a static camera
#   jib_up / jib_down        the opposite vertical move (tilts/cranes/jibs down, descends /
#                            tilts/cranes up, ascends, the camera rises) or a static camera
#   static                   any movement (pans, tilts, tracks, follows, dolly, zooms,
#                            handheld, the camera moves...)
#   focus_shift              deep or fixed focus ("everything stays in focus")
# Pans and tilts are rotations, not dolly moves, so they do not contradict a sideways dolly.
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


def _check_camera_motion(segments: list[_Segment], camera_motion: object) -> list[Finding]:
    """A camera_motion setting that the camera description contradicts (see CAMERA_CONFLICTS).

    Reads the camera element; once the final text has been edited by hand, its sentences that
    mention the camera or lens instead. A movement word after a negation ("no pans", "does not
    tilt") passes.
    """
    if camera_motion not in CAMERA_MOTIONS:
        return []  # no setting, or one rules.validate_request will refuse anyway
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
            for start, end in _hits(pattern, segment):
                if not any(s <= start < e for s, e in sentences) or _negated(segment, start):
                    continue
                message = (
                    f"The camera motion is set to “{label}”, but the description says "
                    f"{_quote(segment.text[start:end])}. Make them agree: change the setting or "
                    "the words."
                )
                findings.append(
                    Finding("camera_motion_conflict", message, segment.element, start, end, WARNING)
                )
    return findings


def _negated(segment: _Segment, at: int) -> bool:
    """A negation among the three words before `at`, in the same clause."""
    window = max(0, at - 60)  # three words fit in far less
    clause_start = max(segment.masked.rfind(mark, window, at) for mark in ".;:!?,\n") + 1
    last_words = " ".join(segment.masked[max(clause_start, window) : at].split()[-3:])
    return bool(_NEGATION.search(last_words))


# -- check ---------------------------------------------------------------------------------

_WORD_CHECKS = (
    _check_tense,
    _check_emotion_labels,
    _check_readable_text,
    _check_crowding,
    _check_lighting,
    _check_complex_physics,
    _check_unquoted_speech,
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
        segments = [_segment(TEXT, final_text)]
    else:
        segments = [
            _segment(name, elements.get(name) or "")
            for name in ELEMENTS
            if (elements.get(name) or "").strip()
        ]
    findings = _check_sentence_count(final_text) + _check_too_long(final_text)
    for word_check in _WORD_CHECKS:
        findings += word_check(segments)
    camera_motion = (settings or {}).get("camera_motion")
    findings += _check_camera_motion(segments, camera_motion)
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

"""tense: the guide asks for present-tense verbs for action and movement."""

import re

from generations.prompts.prompting.findings import (
    WARNING,
    WORDS,
    Finding,
    Segment,
    hits,
    previous_word,
    quote,
    rx,
)
from generations.prompts.prompting.text import wordlist

# Simple-past forms that are never anything else in a prompt, flagged wherever they stand.
_PAST_ANYWHERE = rx(*WORDS["past_anywhere"])
# Past forms that double as adjectives, participles or nouns ("tired eyes", "a dimly lit
# room", "a felt hat", "turns left", "a man dressed in black", "Drew"), flagged only straight
# after a subject pronoun, optionally with one adverb between ("she slowly walked"); after a
# noun subject only as _NOUN_PAST below allows.
_IRREGULAR_PAST = (
    r"had|felt|left|saw|rose|drew|stole|fell|heard|held|kept|made|met|lit"
    r"|found|led|lost|brought|caught|sent|stood|struck|hung|built|thought|sold|won|slept|wept"
    r"|crept|knelt|leapt|spoke|hid|tore|wore|bore|got|told|bought|fought|taught|sought|meant"
    r"|spent|slid|spun|swung|stuck|paid|laid|fled|sank|sprang|rang|clung|dealt|bent|dug|fed"
)
_SUBJECT_PAST = rx(
    r"(?:he|she|they|we|i|who) (?:(?:[a-z]+ly|then|just|also|still|soon|once) )?"
    rf"(?P<hit>[a-z]{{2,}}ed|{_IRREGULAR_PAST})"
)
# A noun as subject at a sentence's start ("The keeper climbed the stairs"): flagged only where
# what follows the verb reads as its object or its end (a determiner, a particle, "and", the
# sentence's end), so "A man dressed in black walks in" keeps its participle.
_NOUN_PAST = re.compile(
    r"(?:^|(?<=[.!?;:]\s)|(?<=[.!?;:]\s\s))"
    r"(?:the|a|an|his|her|its|their|our|my|this|that|these|those)\s+(?:[a-z]+\s+)?[a-z]+\s+"
    r"(?:(?:[a-z]+ly|then|just|also|still|soon|once)\s+)?"
    rf"(?P<hit>[a-z]{{2,}}ed|{_IRREGULAR_PAST})"
    r"(?=(?:\s+[a-z]+ly)?(?:\s+(?:the|a|an|his|her|its|their|our|my|up|down|into|onto|across"
    r"|through|toward|towards|over|away|back|out|off|around|and)\b|\s*[.,;!?]|\s*$))",
    re.IGNORECASE,
)
# Present-tense words that end in -ed all the same.
_NOT_PAST = re.compile(r"(?:eed|shed|sled|embed)$", re.IGNORECASE)
_WILL = rx(r"will(?: not| never)? (?P<verb>[a-z]+)", r"won['’]t [a-z]+", r"[a-z]+['’]ll", "gonna")
# "Free will", "against her will", "the will to live": a noun, not the future.
_WILL_NOUN_BEFORE = frozenset(WORDS["will_noun_before"])
_WILL_NOUN_AFTER = frozenset(
    wordlist("and or to of but power that which the a an as in on is for with")
)
_GOING_TO = rx(r"(?:is|are|am|[a-z]+['’](?:s|re|m)) (?P<hit>going to (?P<verb>[a-z]+))")
# "She is going to the market" is present progressive, not the future.
_GOING_PLACES = frozenset(WORDS["going_places"])


def check_tense(segments: list[Segment]) -> list[Finding]:
    """The guide: "Use present tense verbs for action and movement". Flags the past and the
    future; present perfect ("has walked") and "would" pass."""
    findings = []
    for segment in segments:
        for start, end in hits(_PAST_ANYWHERE, segment):
            findings.append(_tense_finding(segment, start, end, future=False))
        for pattern in (_SUBJECT_PAST, _NOUN_PAST):
            for start, end in hits(pattern, segment):
                if not _NOT_PAST.search(segment.text[start:end]):
                    findings.append(_tense_finding(segment, start, end, future=False))
        for match in _WILL.finditer(segment.masked):
            verb = (match.group("verb") or "").lower()
            before = previous_word(segment.masked, match.start())
            if verb in _WILL_NOUN_AFTER or before in _WILL_NOUN_BEFORE:
                continue
            findings.append(_tense_finding(segment, *match.span(), future=True))
        for match in _GOING_TO.finditer(segment.masked):
            if match.group("verb").lower() not in _GOING_PLACES:
                findings.append(_tense_finding(segment, *match.span("hit"), future=True))
    return findings


def _tense_finding(segment: Segment, start: int, end: int, *, future: bool) -> Finding:
    words = quote(segment.text[start:end])
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

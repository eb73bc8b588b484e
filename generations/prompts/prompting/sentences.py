"""Where quotations and sentences are in a text. Every check skips quoted words
(dialogue may say anything), and several count or compare sentences."""

import re

from generations.prompts.prompting.text import (
    CJK_TERMINALS,
    CLOSERS,
    DOUBLE_QUOTES,
    OPENERS,
    TERMINALS,
    is_terminal,
    last_visible,
    skip,
    wordlist,
)

# Single quotes double as apostrophes ("it's", "the dogs' bowls"), so they count only as a clean
# pair on one line; the 500-character bound keeps the search linear on text full of apostrophes.
_SINGLE_QUOTED = re.compile(r"(?<!\w)[‘'](?=\S)[^\n]{0,500}?(?<=\S)[’'](?!\w)")


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words inside each quotation, quote marks excluded. Double quotes of
    any kind open and close in turn (one left open runs to the end); single quotes count only
    where they pair up cleanly outside them."""
    spans = []
    opened = None
    for i, char in enumerate(text):
        if char in DOUBLE_QUOTES:
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


def mask_quotes(text: str) -> str:
    """The text with quoted words blanked to spaces; quote marks and offsets stay put."""
    chars = list(text)
    for start, end in quoted_spans(text):
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# Words whose full stop does not end a sentence ("Mr. Lee", "EXT. STREET", "e.g. fog").
_ABBREVIATIONS = frozenset(
    wordlist("mr mrs ms dr prof st jr sr lt sgt capt gen col mt vs approx fig int ext e.g i.e")
)


def _starts_sentence(text: str, at: int) -> bool:
    """Whether what follows `at`, past spaces and openers, starts a new sentence: not a
    lowercase letter or a comma-like mark ("...wait... there", "“Hello!” she says")."""
    while at < len(text) and (text[at].isspace() or text[at] in OPENERS):
        at += 1
    return at == len(text) or not (text[at].islower() or text[at] in ",;:–—-")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed. Pragmatic rules: terminal punctuation ends one
    when whitespace and no lowercase letter follow ("2.5", "e.g. the", "Mr. Lee" do not split);
    a quotation ending in it ends one only when a new sentence follows (“Stop!” she shouts);
    a line break ends one after a line with no terminal mark (a scene heading), unless the line
    ends in `:` `,` `;` or a dash. `。！？` always end a sentence."""
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
        if char in TERMINALS:
            j = i
            while j < len(text) and text[j] in TERMINALS and not inside[j]:
                j += 1
            run = text[i:j]
            j = skip(text, j, ")]")
            if _stop_ends_sentence(text, run, start=i, end=j):
                cuts.append(j)
            i = j
            continue
        if i in closing_marks:
            quoted = text[closing_marks[i] : i].rstrip()
            j = skip(text, i + 1, CLOSERS)
            if is_terminal(quoted[-1:]) and _starts_sentence(text, j):
                cuts.append(j)
            i = j
            continue
        if char == "\n":
            end = last_visible(text, i)
            last = text[end - 1 : end]
            ended = is_terminal(last) or (
                last in DOUBLE_QUOTES + "’'"
                and is_terminal(text[last_visible(text, end - 1) - 1 : end - 1][-1:])
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


def _stop_ends_sentence(text: str, run: str, *, start: int, end: int) -> bool:
    """Whether the terminal punctuation `run`, at text[start:end], ends a sentence."""
    if any(char in CJK_TERMINALS for char in run):
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

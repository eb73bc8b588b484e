"""A structured prompt builder that follows the "Prompting Guide for LTX-2".

The guide (`ltx-2-api-docs.md`) asks for six elements - shot, scene, action, characters,
camera, audio - written as one flowing paragraph of 4-8 present-tense sentences, and lists
what to avoid. This package holds that advice as data and plain functions:

* `compose` joins the elements into that paragraph; `drift` tells whether a hand-edited final
  text has moved away from it (elements.py).
* `HELPFUL_TERMS` is the guide's "Additional Helpful Terms", each group tied to the element it
  is inserted into (elements.py).
* `check` reads a prompt and returns advisory `Finding`s, each pointing at the words that
  triggered it so a form can highlight them in place. Nothing here blocks a save
  (advice.py runs the checks and holds those about the whole text; the others are in checks/).

The checks are heuristics made of word lists and regular expressions, not a language model.
They aim to be right on ordinary prompts and quiet on the near-misses the tests list; each
check's docstring says where it stops. Words inside quotation marks are dialogue and may say
anything in any tense, so every check except the sentence count and the length skips them.

Pure Python with no Django, so views, tasks and tests can all use it. Callers import this
package, not its modules: `from generations.prompts import prompting; prompting.check(...)`.
"""

from generations.prompts.prompting.advice import (
    LONG_WORDS,
    MAX_SENTENCES,
    MIN_SENTENCES,
    TOO_LONG_WORDS,
    check,
)
from generations.prompts.prompting.checks.camera import CAMERA_CONFLICTS
from generations.prompts.prompting.checks.crowding import MAX_CHARACTERS
from generations.prompts.prompting.elements import (
    ELEMENT_HELP,
    ELEMENT_LABELS,
    ELEMENTS,
    HELPFUL_TERMS,
    TEXT,
    TermGroup,
    compose,
    drift,
)
from generations.prompts.prompting.findings import INFO, WARNING, Finding
from generations.prompts.prompting.sentences import quoted_spans, sentence_spans

__all__ = [
    "CAMERA_CONFLICTS",
    "ELEMENTS",
    "ELEMENT_HELP",
    "ELEMENT_LABELS",
    "HELPFUL_TERMS",
    "INFO",
    "LONG_WORDS",
    "MAX_CHARACTERS",
    "MAX_SENTENCES",
    "MIN_SENTENCES",
    "TEXT",
    "TOO_LONG_WORDS",
    "WARNING",
    "Finding",
    "TermGroup",
    "check",
    "compose",
    "drift",
    "quoted_spans",
    "sentence_spans",
]

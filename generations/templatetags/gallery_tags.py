"""The gallery's cards: their links without resolving four URLs for every card."""

import contextlib
import uuid

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse

register = template.Library()

_STAND_IN = str(uuid.UUID(int=0))
_CARD_LINKS = {
    "page": "generation",
    "poster": "generation_poster",
    "poll": "generation_card",
    "stack": "stack",  # with the stack's uuid, not the generation's
}
_GENERATION_LINKS = ("page", "poster", "poll")


@register.simple_tag
def card_links(project, generation) -> dict[str, str]:
    """The card's page, poster, polling and version stack URLs. Each route is reversed once
    per request, for a stand-in uuid, and each card's put in its place: a page of 24 cards
    resolved about 90 URLs. They are kept on the project object, which lives as long as the
    request."""
    patterns = getattr(project, "_card_link_patterns", None)
    if patterns is None:
        patterns = {
            key: reverse(name, args=[project.uuid, _STAND_IN]) for key, name in _CARD_LINKS.items()
        }
        project._card_link_patterns = patterns
    generation_uuid = str(generation.uuid)
    links = {key: patterns[key].replace(_STAND_IN, generation_uuid) for key in _GENERATION_LINKS}
    with contextlib.suppress(ObjectDoesNotExist):  # made before version stacks: no stack
        links["stack"] = patterns["stack"].replace(_STAND_IN, str(generation.version.stack.uuid))
    return links

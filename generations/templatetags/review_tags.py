from django import template

from generations.review import timecode as tc

register = template.Library()


@register.filter
def timecode(seconds, fps):
    """{{ comment.start_seconds|timecode:version.fps }} -> 00:00:04:12"""
    try:
        return tc.timecode(float(seconds), float(fps))
    except (TypeError, ValueError):
        return ""

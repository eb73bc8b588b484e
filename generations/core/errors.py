"""The page for a request Django or a view refused as malformed (400): it says what was wrong
when a view said so with BadRequest, whose messages are ours and name only the sender's own
input."""

from django.core.exceptions import BadRequest
from django.shortcuts import render


def bad_request(request, exception):
    message = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"message": message}, status=400)

"""The JSON API, mounted at api/v1/: ninja's operations (generations/api/views.py), then a
JSON 404 for any other path."""

from django.urls import re_path

from generations.api.api import api
from generations.api.views import not_found

# ninja's patterns under their own names (api_projects, api_generation…), without its
# namespace, and without its root view: the API's root is an unknown path like any other.
operations, _app_name, _namespace = api.urls

urlpatterns = [
    *(pattern for pattern in operations if pattern.name != "api-root"),
    # Last: any other path under api/v1/ gets a JSON 404 rather than the site's HTML page.
    # [\s\S], not ".": paths with newlines in them too.
    re_path(r"^[\s\S]*$", not_found, name="api_not_found"),
]

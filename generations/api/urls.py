"""The JSON API, mounted at api/v1/ (see generations/openapi.py for what each does)."""

from django.urls import path, re_path

from generations.api import views as api

P = "projects/<uuid:project_uuid>/"
G = P + "generations/<uuid:generation_uuid>/"

urlpatterns = [
    path("openapi.json", api.openapi_document, name="api_openapi"),
    path("projects/", api.project_list, name="api_projects"),
    path(P + "generations/", api.generations, name="api_generations"),
    path(G, api.generation_detail, name="api_generation"),
    path(G + "video.mp4", api.generation_video, name="api_generation_video"),
    path(G + "poster.jpg", api.generation_poster, name="api_generation_poster"),
    path(G + "cancel/", api.generation_cancel, name="api_generation_cancel"),
    # Last: any other path under api/v1/ gets a JSON 404 rather than the site's HTML page.
    # [\s\S], not ".": paths with newlines in them too.
    re_path(r"^[\s\S]*$", api.not_found, name="api_not_found"),
]

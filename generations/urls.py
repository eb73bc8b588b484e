from django.urls import path

from generations.views import projects

urlpatterns = [
    path("", projects.home, name="home"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("projects/<uuid:project_uuid>/", projects.project_detail, name="project"),
    path("status/ltx-api/", projects.api_status, name="api_status"),
]

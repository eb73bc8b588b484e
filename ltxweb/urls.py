from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("generations.api.urls")),
    path("", include("generations.projects.urls")),
    path("", include("generations.prompts.urls")),
    path("", include("generations.jobs.urls")),
    path("", include("generations.review.urls")),
    path("", include("generations.spend.urls")),
]

# A malformed request gets a page that says what was wrong (generations/core/errors.py).
handler400 = "generations.core.errors.bad_request"

from django.contrib import admin
from django.urls import include, path

from generations.projects.views import accounts

urlpatterns = [
    # Ahead of the admin's own route to the same page, so its sign-in is rate limited.
    path("admin/login/", accounts.admin_sign_in),
    path("admin/", admin.site.urls),
    path("api/v1/", include("generations.api.urls")),
    path("", include("generations.projects.urls")),
    path("", include("generations.prompts.urls")),
    path("", include("generations.jobs.urls")),
    path("", include("generations.review.urls")),
    path("", include("generations.spend.urls")),
    path("", include("generations.sequences.urls")),
]

# A malformed request gets a page that says what was wrong (generations/core/errors.py).
handler400 = "generations.core.errors.bad_request"

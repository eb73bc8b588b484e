"""A person's API tokens: list, create (the token shown once), revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from generations.projects import tokens as token_service
from generations.projects.models import ApiToken


@login_required
@require_GET
def api_tokens(request):
    return _page(request)


@never_cache  # the response carries the new token: no copy may be kept by any cache
@sensitive_variables("plaintext")
@login_required
@require_POST
def api_token_create(request):
    try:
        token, plaintext = token_service.token_create(
            user=request.user, name=request.POST.get("name", "")
        )
    except ValidationError as exc:
        errors = exc.message_dict.get("name", exc.messages)
        return _page(request, name=request.POST.get("name", ""), errors=errors, status=400)
    return _page(request, new_token=token, plaintext=plaintext)


@login_required
@require_POST
def api_token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token_service.token_revoke(token=token, user=request.user):
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("api_tokens")


def _page(request, *, status=200, **context):
    api_root = request.build_absolute_uri(reverse("api_projects")).removesuffix("projects/")
    return render(
        request,
        "projects/api_tokens.html",
        {
            "tokens": request.user.api_tokens.all(),
            "api_root": api_root,
            "openapi_url": request.build_absolute_uri(reverse("api_openapi")),
            **context,
        },
        status=status,
    )

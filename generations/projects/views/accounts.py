import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from generations.core import ratelimit

_password_reset = auth_views.PasswordResetView.as_view()


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request):
    next_url = _next_url(request)
    if request.method == "GET":
        form = AuthenticationForm(request)
        return render(request, "registration/login.html", {"form": form, "next": next_url})
    username = request.POST.get("username", "")
    address = ratelimit.client_address(request)
    # Refused before the password is even looked at, so guessing gains nothing while blocked.
    if wait := ratelimit.sign_in_attempt(username=username, address=address):
        form = AuthenticationForm(request, initial={"username": username})
        context = {"form": form, "next": next_url}
        return _too_many(request, "registration/login.html", context, wait)
    form = AuthenticationForm(request, data=request.POST)
    if not form.is_valid():
        return render(request, "registration/login.html", {"form": form, "next": next_url})
    login(request, form.get_user())
    ratelimit.sign_in_succeeded(username=username, address=address)
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Django's password reset, limited per address: each request may send an email."""
    if request.method == "POST" and (
        wait := ratelimit.password_reset_attempt(address=ratelimit.client_address(request))
    ):
        context = {"form": PasswordResetForm(request.POST)}
        return _too_many(request, "registration/password_reset_form.html", context, wait)
    return _password_reset(request)


def _next_url(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


def _too_many(request, template: str, context: dict, wait: int):
    retry = {
        "retry_minutes": math.ceil(wait / 60),
        "retry_at": timezone.now() + timedelta(seconds=wait),
    }
    response = render(request, template, {**context, **retry}, status=429)
    response["Retry-After"] = str(wait)
    return response

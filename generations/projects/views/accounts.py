import math
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import BadRequest
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from generations.core import ratelimit, theme
from generations.core.signin import sign_in_limited

_password_reset = auth_views.PasswordResetView.as_view()


def _sign_in_refused(request, wait):
    # Refused before the password is even looked at, so guessing gains nothing while blocked.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "next": _next_url(request)}
    return _too_many(request, "registration/login.html", context, wait)


def _admin_sign_in_refused(request, wait):
    # Our own page, whose form signs in here and goes on to the admin.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "next": _next_url(request) or reverse("admin:index")}
    return _too_many(request, "registration/login.html", context, wait)


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
@sign_in_limited(_sign_in_refused)
def sign_in(request):
    next_url = _next_url(request)
    if request.method == "GET":
        form = AuthenticationForm(request)
        return render(request, "registration/login.html", {"form": form, "next": next_url})
    form = AuthenticationForm(request, data=request.POST)
    if not form.is_valid():
        return render(request, "registration/login.html", {"form": form, "next": next_url})
    login(request, form.get_user())
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


@sensitive_post_parameters("password")
@never_cache
@sign_in_limited(_admin_sign_in_refused)
def admin_sign_in(request):
    """The admin site's own sign-in page, behind the same limiter as ours (issue #21)."""
    return admin.site.login(request)


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


@require_POST
def theme_choose(request):
    """Remember the look chosen (dark, light or the system's) in a cookie, for anyone, signed
    in or not, and go back to the page it was chosen on."""
    chosen = request.POST.get("theme", "")
    if chosen not in theme.THEMES:
        raise BadRequest(f"Choose a theme: {', '.join(theme.THEMES)}.")
    response = redirect(_next_url(request) or "home")
    response.set_cookie(
        theme.COOKIE,
        chosen,
        max_age=theme.COOKIE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response

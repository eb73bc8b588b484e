"""The NinjaAPI that serves `/api/v1/`: authentication, the error envelope for every failure,
the OpenAPI document ninja makes from the schemas, and a browsable page of it."""

import functools
import json

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from ninja import NinjaAPI
from ninja import errors as ninja_errors
from ninja.openapi.docs import DocsBase

from generations.api import schemas
from generations.api.auth import BearerToken
from generations.api.errors import handle
from generations.api.views import answers, refuse_other_methods, router
from generations.ltx import capabilities

API_PREFIX = "/api/v1/"
DESCRIPTION = (
    "Automation for ltxweb: queue LTX-2 generations in your projects, follow their state and "
    "download the videos. Authenticate with a personal API token (made on the “API tokens” "
    "page of your account) sent as `Authorization: Bearer ltxw_…`. A token acts with your "
    "roles in each project: every member can read, editors and owners can generate. Projects "
    "you are not a member of answer 404. Errors are JSON: "
    '`{"error": {"type": …, "message": …, "fields": {…}}}`.'
)


class Api(NinjaAPI):
    """JSON without a charset parameter (JSON has none); document paths from /api/v1/ (ninja
    finds the prefix through a URL namespace, which ours do without); and the create
    request's schemas, since that operation reads its body itself."""

    def get_content_type(self) -> str:
        return self.renderer.media_type

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        document = super().get_openapi_schema(path_prefix=API_PREFIX, path_params=path_params)
        document["components"]["schemas"].update(schemas.create_components())
        return document


class ApiDocs(DocsBase):
    """Swagger UI from vendored files, started by a static script: it runs under our CSP."""

    settings = {
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,  # no badge fetched from swagger.io
        "persistAuthorization": False,
    }

    def render_page(self, request, api, **kwargs) -> HttpResponse:
        return render(
            request,
            "api/docs.html",
            {
                "title": api.title,
                "openapi_url": reverse("api_openapi"),
                "settings": json.dumps(self.settings),
            },
        )


api = Api(
    title="ltxweb JSON API",
    version="1.0.0",
    description=DESCRIPTION,
    auth=BearerToken(),
    # Served below as operations under their own names; ninja's would be namespaced.
    openapi_url=None,
    docs_url=None,
    docs=ApiDocs(),
    servers=[{"url": "/", "description": "This ltxweb"}],
    urls_namespace="api",
)
# Every failure answers in the envelope: ninja's defaults for these answer {"detail": …}.
for _error in (Exception, Http404, ninja_errors.HttpError, ninja_errors.ValidationError):
    api.add_exception_handler(_error, handle)
api.add_router("", router)


@functools.cache
def _document(profile: int) -> dict:
    """Made once per process and capabilities profile (by its id: a profile is read once and
    kept): it changes only with the code and with what the API as described offers."""
    return api.get_openapi_schema()


@api.get(
    "/openapi.json",
    auth=None,
    url_name="api_openapi",
    operation_id="getOpenApiDocument",
    summary="This document",
    **answers(dict, {200: "The OpenAPI document."}, security=[]),
)
def openapi_document(request):
    response = api.create_response(request, _document(id(capabilities.active())), status=200)
    response["Cache-Control"] = "no-store"
    return response


@api.get("/docs/", auth=None, url_name="api_docs", include_in_schema=False)
def docs(request):
    """The document, browsable (Swagger UI)."""
    return api.docs.render_page(request, api)


refuse_other_methods("/openapi.json", ["GET"], "api_openapi", on=api)
refuse_other_methods("/docs/", ["GET"], "api_docs", on=api)

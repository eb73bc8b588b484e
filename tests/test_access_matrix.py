"""Who may reach what: every URL of the app, for every role, checked against one table.

`MATRIX` below has a row for each URL name and method (GET, and POST) with the status each
kind of visitor gets: the five roles of a member of the project (tests/conftest.py), a member
of another project only (outsider) and an anonymous visitor. The test walks every URL pattern
Django knows (`get_resolver()`, through every include), builds each URL from real objects (the
project's UUID, a prompt's, a stored video's...), sends the request as each visitor, and
compares. A URL pattern without rows in the table fails the test, saying what to add.

Left out, on purpose:
- Django's admin (`admin/`): it has its own staff checks, tested once below
  (`test_the_admin_turns_away_people_who_are_not_staff`); its hundreds of generated URLs
  would only test Django.
- Static files: served by WhiteNoise's middleware, not by a URL pattern, and public by nature.

Every request runs in a savepoint that is rolled back, so a POST (removing a member, revoking a
token) never changes what the next visitor finds. POSTs carry an empty form: the table checks
who gets in, not what a valid form does (each view's own tests do that). The status an allowed
visitor gets for an empty form (200 with errors, 400, or 302 after a message) is written down
all the same, so that any change shows up here.

Statuses: a number is that HTTP status; `login` is a redirect to the sign-in page that comes
back to the URL (`?next=`); `302` is any other redirect. The JSON API's rows (`api/v1/...`)
are sent with each person's API token instead of a session; `anon` there is no token at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from generations.jobs import queue as job_queue
from generations.jobs.models import Attempt, Generation, GenerationEvent, JobState
from generations.projects import services as project_service
from generations.projects import tokens as token_service
from generations.prompts import services as prompt_service
from generations.prompts.models import LibraryEntry
from generations.review import comments as comment_service
from generations.review import shares as share_service
from generations.review import stacks
from generations.review.models import Notification, ShareLink
from generations.sequences import services as sequence_service
from generations.sequences.models import RoughCut
from tests import mediafiles
from tests.factories import MembershipFactory, UserFactory

VISITORS = ("owner", "producer", "editor", "reviewer", "viewer", "outsider", "anon")

# fmt: off
MATRIX = """
url name                      method  owner producer editor reviewer viewer outsider anon
# -- signing in and accounts (public, or any signed-in person) --------------------------
login                         GET     200   200      200    200      200    200      200
login                         POST    200   200      200    200      200    200      200
logout                        GET     405   405      405    405      405    405      405
logout                        POST    302   302      302    302      302    302      302
theme                         GET     405   405      405    405      405    405      405
theme                         POST    400   400      400    400      400    400      400
password_change               GET     200   200      200    200      200    200      login
password_change               POST    200   200      200    200      200    200      login
password_change_done          GET     200   200      200    200      200    200      login
password_change_done          POST    405   405      405    405      405    405      login
password_reset                GET     200   200      200    200      200    200      200
password_reset                POST    200   200      200    200      200    200      200
password_reset_done           GET     200   200      200    200      200    200      200
password_reset_done           POST    405   405      405    405      405    405      405
password_reset_confirm        GET     302   302      302    302      302    302      302
password_reset_confirm        POST    302   302      302    302      302    302      302
password_reset_complete       GET     200   200      200    200      200    200      200
password_reset_complete       POST    405   405      405    405      405    405      405
# A person's own API tokens: the token to revoke is the owner's, so nobody else finds it.
api_tokens                    GET     200   200      200    200      200    200      login
api_tokens                    POST    405   405      405    405      405    405      login
api_token_create              GET     405   405      405    405      405    405      login
api_token_create              POST    400   400      400    400      400    400      login
api_token_revoke              GET     405   405      405    405      405    405      login
api_token_revoke              POST    302   404      404    404      404    404      login
# -- invitations: the link is the key; accepting needs an account -----------------------
invite                        GET     200   200      200    200      200    200      200
invite                        POST    405   405      405    405      405    405      405
invite_accept                 GET     405   405      405    405      405    405      login
invite_accept                 POST    302   302      302    302      302    302      login
invite_sign_up                GET     405   405      405    405      405    405      405
invite_sign_up                POST    400   400      400    400      400    400      400
# -- projects ---------------------------------------------------------------------------
home                          GET     200   200      200    200      200    200      login
home                          POST    405   405      405    405      405    405      login
project_new                   GET     200   200      200    200      200    200      login
project_new                   POST    422   422      422    422      422    422      login
api_status                    GET     200   200      200    200      200    200      login
api_status                    POST    405   405      405    405      405    405      login
project                       GET     200   200      200    200      200    404      login
project                       POST    405   405      405    405      405    405      login
activity                      GET     200   200      200    200      200    404      login
activity                      POST    405   405      405    405      405    405      login
# Settings and the project's own API key: owners only.
project_settings              GET     200   403      403    403      403    404      login
project_settings              POST    405   405      405    405      405    405      login
project_settings_save         GET     405   405      405    405      405    405      login
project_settings_save         POST    302   403      403    403      403    404      login
project_api_key_set           GET     405   405      405    405      405    405      login
project_api_key_set           POST    400   403      403    403      403    404      login
project_api_key_remove        GET     405   405      405    405      405    405      login
project_api_key_remove        POST    302   403      403    403      403    404      login
# Members: every member sees who is in; owners change it.
members                       GET     200   200      200    200      200    404      login
members                       POST    405   405      405    405      405    405      login
member_roles                  GET     405   405      405    405      405    405      login
member_roles                  POST    400   403      403    403      403    404      login
member_remove                 GET     405   405      405    405      405    405      login
member_remove                 POST    302   403      403    403      403    404      login
invitation_new                GET     405   405      405    405      405    405      login
invitation_new                POST    400   403      403    403      403    404      login
invitation_revoke             GET     405   405      405    405      405    405      login
invitation_revoke             POST    302   403      403    403      403    404      login
# -- prompts: members read; editors write; reviewers and producers approve and comment --
prompts                       GET     200   200      200    200      200    404      login
prompts                       POST    405   405      405    405      405    405      login
prompt_new                    GET     200   403      200    403      403    404      login
prompt_new                    POST    400   403      400    403      403    404      login
prompt_compose                GET     405   405      405    405      405    405      login
prompt_compose                POST    200   200      200    200      200    404      login
prompt_settings               GET     200   200      200    200      200    404      login
prompt_settings               POST    405   405      405    405      405    405      login
prompt                        GET     200   200      200    200      200    404      login
prompt                        POST    400   403      400    403      403    404      login
prompt_history                GET     200   200      200    200      200    404      login
prompt_history                POST    405   405      405    405      405    405      login
prompt_restore                GET     405   405      405    405      405    405      login
prompt_restore                POST    302   403      302    403      403    404      login
prompt_approve                GET     405   405      405    405      405    405      login
prompt_approve                POST    302   302      403    302      403    404      login
prompt_duplicate              GET     405   405      405    405      405    405      login
prompt_duplicate              POST    302   403      302    403      403    404      login
prompt_take_wording           GET     405   405      405    405      405    405      login
prompt_take_wording           POST    302   403      302    403      403    404      login
prompt_comment                GET     405   405      405    405      405    405      login
prompt_comment                POST    302   302      302    302      403    404      login
prompt_comment_resolve        GET     405   405      405    405      405    405      login
prompt_comment_resolve        POST    302   302      302    302      403    404      login
# The library of characters and locations: members read, editors write.
library                       GET     200   200      200    200      200    404      login
library                       POST    400   403      400    403      403    404      login
library_names                 GET     200   200      200    200      200    404      login
library_names                 POST    405   405      405    405      405    405      login
library_entry                 GET     200   200      200    200      200    404      login
library_entry                 POST    400   403      400    403      403    404      login
# -- generations: members watch; editors generate, cancel, retry --------------------------
gallery                       GET     200   200      200    200      200    404      login
gallery                       POST    405   405      405    405      405    405      login
generation_new                GET     200   403      200    403      403    404      login
generation_new                POST    400   403      400    403      403    404      login
generation_estimate           GET     200   200      200    200      200    404      login
generation_estimate           POST    405   405      405    405      405    405      login
generation_input_settings     GET     200   403      200    403      403    404      login
generation_input_settings     POST    405   405      405    405      405    405      login
generation                    GET     200   200      200    200      200    404      login
generation                    POST    405   405      405    405      405    405      login
generation_card               GET     200   200      200    200      200    404      login
generation_card               POST    405   405      405    405      405    405      login
generation_video              GET     200   200      200    200      200    404      login
generation_video              POST    405   405      405    405      405    405      login
generation_poster             GET     200   200      200    200      200    404      login
generation_poster             POST    405   405      405    405      405    405      login
generation_sprite             GET     200   200      200    200      200    404      login
generation_sprite             POST    405   405      405    405      405    405      login
generation_cancel             GET     405   405      405    405      405    405      login
generation_cancel             POST    302   403      302    403      403    404      login
generation_retry              GET     405   405      405    405      405    405      login
generation_retry              POST    302   403      302    403      403    404      login
generation_rerun              GET     405   405      405    405      405    405      login
generation_rerun              POST    302   403      302    403      403    404      login
# -- spend: producers (and owners) -------------------------------------------------------
spend                         GET     200   200      403    403      403    404      login
spend                         POST    405   405      405    405      405    405      login
spend_budget                  GET     405   405      405    405      405    405      login
spend_budget                  POST    400   400      403    403      403    404      login
spend_policy                  GET     405   405      405    405      405    405      login
spend_policy                  POST    302   302      403    403      403    404      login
spend_adjust                  GET     405   405      405    405      405    405      login
spend_adjust                  POST    400   400      403    403      403    404      login
spend_ledger_csv              GET     200   200      403    403      403    404      login
spend_ledger_csv              POST    405   405      405    405      405    405      login
spend_table_csv               GET     200   200      403    403      403    404      login
spend_table_csv               POST    405   405      405    405      405    405      login
spend_possible_charge_settle  GET     405   405      405    405      405    405      login
spend_possible_charge_settle  POST    302   302      403    403      403    404      login
spend_job_approve             GET     405   405      405    405      405    405      login
spend_job_approve             POST    302   302      403    403      403    404      login
spend_job_decline             GET     405   405      405    405      405    405      login
spend_job_decline             POST    302   302      403    403      403    404      login
# Across one's own projects: shows only those where one is a producer or owner.
spend_overview                GET     200   200      200    200      200    200      login
spend_overview                POST    405   405      405    405      405    405      login
spend_overview_csv            GET     200   200      200    200      200    200      login
spend_overview_csv            POST    405   405      405    405      405    405      login
# -- the JSON API (a token per person; anon sends none) ---------------------------------
api_openapi                   GET     200   200      200    200      200    200      200
api_openapi                   POST    405   405      405    405      405    405      405
api_docs                      GET     200   200      200    200      200    200      200
api_docs                      POST    405   405      405    405      405    405      405
api_projects                  GET     200   200      200    200      200    200      401
api_projects                  POST    405   405      405    405      405    405      405
api_generations               GET     200   200      200    200      200    404      401
api_generations               POST    400   403      400    403      403    404      401
api_generation                GET     200   200      200    200      200    404      401
api_generation                POST    405   405      405    405      405    405      405
api_generation_video          GET     200   200      200    200      200    404      401
api_generation_video          POST    405   405      405    405      405    405      405
api_generation_poster         GET     200   200      200    200      200    404      401
api_generation_poster         POST    405   405      405    405      405    405      405
api_generation_cancel         GET     405   405      405    405      405    405      405
api_generation_cancel         POST    409   403      409    403      403    404      401
api_not_found                 GET     404   404      404    404      404    404      401
api_not_found                 POST    404   404      404    404      404    404      401
# -- review: members watch and read; reviewers (and owners) decide -----------------------
# The queue is one's own, across one's projects: every signed-in person has one.
review_queue                  GET     200   200      200    200      200    200      login
review_queue                  POST    405   405      405    405      405    405      login
review                        GET     200   200      200    200      200    404      login
review                        POST    405   405      405    405      405    405      login
review_decide                 GET     405   405      405    405      405    405      login
review_decide                 POST    302   403      403    302      403    404      login
# Timeline comments: everyone but viewers comments, replies, resolves and reopens.
review_comment                GET     405   405      405    405      405    405      login
review_comment                POST    422   422      422    422      403    404      login
review_comment_resolve        GET     405   405      405    405      405    405      login
review_comment_resolve        POST    302   302      302    302      403    404      login
# A retake from a comment is paid for: editors and reviewers (the table's video has no
# stored facts, so the empty form is refused with 400).
review_comment_retake         GET     200   403      200    200      403    404      login
review_comment_retake         POST    400   403      400    400      403    404      login
# Notifications are one's own: the one to open is the owner's, so nobody else finds it.
notifications                 GET     200   200      200    200      200    200      login
notifications                 POST    405   405      405    405      405    405      login
notification_count            GET     200   200      200    200      200    200      login
notification_count            POST    405   405      405    405      405    405      login
notifications_read            GET     405   405      405    405      405    405      login
notifications_read            POST    302   302      302    302      302    302      login
notification_open             GET     405   405      405    405      405    405      login
notification_open             POST    302   404      404    404      404    404      login
notification_email            GET     405   405      405    405      405    405      login
notification_email            POST    302   302      302    302      302    404      login
# Delivery and comment exports: every member reads them.
deliverables                  GET     200   200      200    200      200    404      login
deliverables                  POST    405   405      405    405      405    405      login
deliverables_zip              GET     200   200      200    200      200    404      login
deliverables_zip              POST    405   405      405    405      405    405      login
deliverables_manifest         GET     200   200      200    200      200    404      login
deliverables_manifest         POST    405   405      405    405      405    405      login
review_comments_csv           GET     200   200      200    200      200    404      login
review_comments_csv           POST    405   405      405    405      405    405      login
review_comments_edl           GET     200   200      200    200      200    404      login
review_comments_edl           POST    405   405      405    405      405    405      login
review_comments_zip           GET     200   200      200    200      200    404      login
review_comments_zip           POST    405   405      405    405      405    405      login
review_comment_drawing        GET     200   200      200    200      200    404      login
review_comment_drawing        POST    405   405      405    405      405    405      login
# Share links: reviewers and producers make and revoke them.
shares                        GET     200   200      403    200      403    404      login
shares                        POST    405   405      405    405      405    405      login
share_new                     GET     405   405      405    405      405    405      login
share_new                     POST    400   400      403    400      403    404      login
share_revoke                  GET     405   405      405    405      405    405      login
share_revoke                  POST    302   302      403    302      403    404      login
# A guest's pages: the link is the key, so everyone holding it gets the same (the table's
# link has no password; an empty comment is refused; unlocking a link without a password
# is refused).
share                         GET     200   200      200    200      200    200      200
share                         POST    405   405      405    405      405    405      405
share_unlock                  GET     405   405      405    405      405    405      405
share_unlock                  POST    403   403      403    403      403    403      403
share_version                 GET     200   200      200    200      200    200      200
share_version                 POST    405   405      405    405      405    405      405
share_video                   GET     200   200      200    200      200    200      200
share_video                   POST    405   405      405    405      405    405      405
share_poster                  GET     200   200      200    200      200    200      200
share_poster                  POST    405   405      405    405      405    405      405
share_comment                 GET     405   405      405    405      405    405      405
share_comment                 POST    400   400      400    400      400    400      400
stack                         GET     200   200      200    200      200    404      login
stack                         POST    405   405      405    405      405    405      login
stack_compare                 GET     200   200      200    200      200    404      login
stack_compare                 POST    405   405      405    405      405    405      login
# -- sequences: any member reads the board; editors (and owners) change it --------------
sequences                     GET     200   200      200    200      200    404      login
sequences                     POST    302   403      302    403      403    404      login
sequence                      GET     200   200      200    200      200    404      login
sequence                      POST    405   405      405    405      405    405      login
sequence_rename               GET     405   405      405    405      405    405      login
sequence_rename               POST    302   403      302    403      403    404      login
shot_add                      GET     405   405      405    405      405    405      login
shot_add                      POST    302   403      302    403      403    404      login
shots_import                  GET     405   405      405    405      405    405      login
shots_import                  POST    302   403      302    403      403    404      login
shot_edit                     GET     405   405      405    405      405    405      login
shot_edit                     POST    400   403      400    403      403    404      login
shot_move                     GET     405   405      405    405      405    405      login
shot_move                     POST    302   403      302    403      403    404      login
shot_duplicate                GET     405   405      405    405      405    405      login
shot_duplicate                POST    302   403      302    403      403    404      login
shot_split                    GET     405   405      405    405      405    405      login
shot_split                    POST    302   403      302    403      403    404      login
shot_delete                   GET     405   405      405    405      405    405      login
shot_delete                   POST    302   403      302    403      403    404      login
shot_select                   GET     405   405      405    405      405    405      login
shot_select                   POST    302   403      302    403      403    404      login
shots_export                  GET     200   200      200    200      200    404      login
shots_export                  POST    405   405      405    405      405    405      login
shot                          GET     200   200      200    200      200    404      login
shot                          POST    405   405      405    405      405    405      login
# The world's shot has no finished take: the timeline and a new rough cut say so (302).
roughcuts                     GET     200   200      200    200      200    404      login
roughcuts                     POST    405   405      405    405      405    405      login
roughcut                      GET     200   200      200    200      200    404      login
roughcut                      POST    405   405      405    405      405    405      login
timeline_otio                 GET     302   302      302    302      302    404      login
timeline_otio                 POST    405   405      405    405      405    405      login
timeline_edl                  GET     302   302      302    302      302    404      login
timeline_edl                  POST    405   405      405    405      405    405      login
roughcut_new                  GET     405   405      405    405      405    405      login
roughcut_new                  POST    302   302      302    302      403    404      login
sequence_play                 GET     200   200      200    200      200    404      login
sequence_play                 POST    405   405      405    405      405    405      login
sequence_comment              GET     405   405      405    405      405    405      login
sequence_comment              POST    400   400      400    400      403    404      login
# Reviewers and producers share a sequence as they share a stack (an empty form: 14 days).
sequence_share                GET     405   405      405    405      405    405      login
sequence_share                POST    201   201      403    201      403    404      login
# A guest's player of a sequence's link (the world's shot has no finished take, so no video
# of the project is in its cut: a 404; an empty comment is refused).
share_sequence                GET     200   200      200    200      200    200      200
share_sequence                POST    405   405      405    405      405    405      405
share_sequence_comment        GET     405   405      405    405      405    405      405
share_sequence_comment        POST    400   400      400    400      400    400      400
share_sequence_video          GET     404   404      404    404      404    404      404
share_sequence_video          POST    405   405      405    405      405    405      405
shot_continue                 GET     405   405      405    405      405    405      login
shot_continue                 POST    302   403      302    403      403    404      login
# The world's shot has no storyboard frame: its image is a 404.
shot_frame                    GET     405   405      405    405      405    405      login
shot_frame                    POST    302   403      302    403      403    404      login
shot_frame_image              GET     404   404      404    404      404    404      login
shot_frame_image              POST    405   405      405    405      405    405      login
"""
# fmt: on

# URL patterns whose URL is not built with reverse() (a catch-all regex has no reverse).
FIXED_PATHS = {"api_not_found": "/api/v1/no-such-endpoint/"}

# How to add a URL: add two rows above (GET and POST) with what each visitor should get, and,
# if the pattern takes an argument not in `arguments()` below, a value for it made from the
# fixture's objects.
HOW_TO_ADD = (
    "Add rows for it to MATRIX in tests/test_access_matrix.py: one for GET and one for POST, "
    "each with the status every visitor gets ({visitors}); a number, `login` (sent to sign in) "
    "or `302` (another redirect). If it takes a URL argument that `arguments()` does not know, "
    "add a value for it there."
)


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str  # the whole route, includes joined
    arguments: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = ":".join(n for n in (namespace, entry.namespace or "") if n)
            yield from _walk(entry, route, ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Pattern(name or route, route, tuple(entry.pattern.converters))


def app_patterns() -> list[Pattern]:
    """Every URL pattern but Django's admin (see the module's docstring)."""
    return [p for p in _walk(get_resolver()) if not p.route.startswith("admin/")]


def parse_matrix(text: str) -> dict[tuple[str, str], dict[str, str]]:
    rows = {}
    for line in text.strip().splitlines()[1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, method, *statuses = line.split()
        assert len(statuses) == len(VISITORS), f"row {name} {method}: {len(statuses)} columns"
        assert (name, method) not in rows, f"row {name} {method} appears twice"
        rows[(name, method)] = dict(zip(VISITORS, statuses, strict=True))
    return rows


EXPECTED = parse_matrix(MATRIX)


# -- the objects URLs are built from --------------------------------------------------------


@dataclass
class World:
    project: object
    people: dict  # visitor name -> user (anon: None)
    api_tokens: dict  # visitor name -> plaintext API token
    prompt: object
    comment: object
    entry: object
    generation: object
    invitation: object
    invitation_token: str
    web_token: object  # one of the owner's API tokens, to revoke
    forgetful: object  # someone who asked for a password reset (and never signs in here)
    share_token: str = ""  # a guest link to the generation's stack
    sequence_share_token: str = ""  # a guest link to the shot's sequence
    shot: object = None  # a shot of a sequence, made from the prompt


@pytest.fixture
def world(
    project, owner, producer, editor, reviewer, viewer, outsider, settings, tmp_path, monkeypatch
) -> World:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    settings.PASSWORD_RESET_TIMEOUT = 3600
    # Nothing is run by a worker here: a queued job stays queued.
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *args, **kwargs: None)
    people = {
        "owner": owner,
        "producer": producer,
        "editor": editor,
        "reviewer": reviewer,
        "viewer": viewer,
        "outsider": outsider,
        "anon": None,
    }
    prompt = prompt_service.prompt_create(
        project=project,
        author=editor,
        title="Harbour at dawn",
        elements={"shot": "A wide shot of a harbour at dawn", "action": "Gulls lift off"},
        settings={"model": "ltx-2-fast", "duration": 6},
    )
    comment = prompt_service.prompt_comment_add(
        prompt=prompt, version=prompt.current_version, author=editor, body="Warmer light?"
    )
    entry = LibraryEntry.objects.create(
        project=project, kind="character", name="Mara", description="A fisherwoman in her 60s"
    )
    generation = Generation.objects.create(
        project=project,
        prompt_version=prompt.current_version,
        requested_by=editor,
        endpoint="text-to-video",
        params={"prompt": "A harbour", "model": "ltx-2-fast", "duration": 6},
        estimated_cost="0.24",
        final_cost="0.24",
        state=JobState.SUCCEEDED,
        attempt_count=1,
    )
    GenerationEvent.objects.create(generation=generation, to_state=JobState.SUCCEEDED)
    Attempt.objects.create(
        generation=generation, number=1, outcome=Attempt.Outcome.DELIVERED, http_status=200
    )
    video = mediafiles.make_video(tmp_path, frames=5, audio=False)
    poster = mediafiles.make_image(tmp_path, "JPEG")
    with open(video, "rb") as v, open(poster, "rb") as p:
        generation.video.save("video.mp4", File(v), save=False)
        generation.poster.save("poster.jpg", File(p), save=False)
        p.seek(0)
        generation.sprite.save("sprite.jpg", File(p), save=False)
    generation.save()
    stacks.version_place(generation=generation)  # v1 of its stack, as job_submit does
    comment_service.comment_add(
        version=generation.version,
        author=editor,
        body="Gulls too early?",
        start_seconds=1,
        drawing=[
            {
                "tool": "rect",
                "x": 0.1,
                "y": 0.1,
                "w": 0.3,
                "h": 0.2,
                "color": "#ff0000",
                "width": 0.01,
            }
        ],
    )
    Notification.objects.create(
        user=owner, project=project, kind="mentioned", message="Look", url="/", actor=editor
    )
    links = []
    project_service.invitation_create(
        project=project,
        email="newcomer@example.com",
        roles=["viewer"],
        invited_by=owner,
        link_for=lambda token: links.append(token) or f"/invite/{token}/",
    )
    invitation = project.invitations.get()
    web_token, _ = token_service.token_create(user=owner, name="a script")
    api_tokens = {
        name: token_service.token_create(user=user, name="matrix")[1]
        for name, user in people.items()
        if user is not None
    }
    shot = sequence_service.shot_add(
        sequence=sequence_service.sequence_create(project=project, user=editor, title="Ad"),
        user=editor,
        title="Harbour",
        prompt_text="A harbour at dawn",
    )
    # A finished rough cut to download (the generation's video stands in for its file).
    RoughCut.objects.create(
        sequence=shot.sequence, state=RoughCut.State.SUCCEEDED, file=generation.video.name
    )
    return World(
        project=project,
        people=people,
        api_tokens=api_tokens,
        prompt=prompt,
        comment=comment,
        entry=entry,
        generation=generation,
        invitation=invitation,
        invitation_token=links[0],
        web_token=web_token,
        forgetful=UserFactory(),
        share_token=share_service.share_create(
            project=project, user=owner, stack=generation.version.stack
        )[1],
        shot=shot,
        sequence_share_token=share_service.share_create(
            project=project, user=owner, sequence=shot.sequence
        )[1],
    )


def arguments(world: World, pattern: Pattern) -> dict:
    """A real value for each argument a URL takes: the fixture's objects."""
    timeline_comment = {"comment_id": world.generation.version.comments.get().pk}
    sequence_link = {"share_token": world.sequence_share_token}
    per_pattern = {
        "review_comment_resolve": timeline_comment,
        "review_comment_retake": timeline_comment,
        "review_comment_drawing": timeline_comment,
        "notification_open": {
            "notification_id": Notification.objects.get(user=world.people["owner"]).pk
        },
        "share_sequence": sequence_link,
        "share_sequence_comment": sequence_link,
        "share_sequence_video": sequence_link,
        "password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(world.forgetful.pk)),
            "token": default_token_generator.make_token(world.forgetful),
        },
    }
    common = {
        "project_uuid": world.project.uuid,
        "project": world.project.uuid,  # the JSON API's name for it (its OpenAPI document's)
        "generation": world.generation.uuid,
        "prompt_uuid": world.prompt.uuid,
        "generation_uuid": world.generation.uuid,
        "entry_uuid": world.entry.uuid,
        "comment_id": world.comment.pk,
        "number": 1,  # the prompt's version 1; the generation's attempt 1
        "table": "by-setting",
        "username": world.people["viewer"].username,
        "invitation_id": world.invitation.pk,
        "token": world.invitation_token,
        "token_id": world.web_token.pk,
        "stack_uuid": world.generation.version.stack.uuid,
        "share_token": world.share_token,
        "fmt": "csv",
        "link_id": ShareLink.objects.get(project=world.project, stack__isnull=False).pk,
        "sequence_uuid": world.shot.sequence.uuid,
        "shot_uuid": world.shot.uuid,
        "roughcut_uuid": RoughCut.objects.get(sequence=world.shot.sequence).uuid,
    }
    values = {**common, **per_pattern.get(pattern.name, {})}
    missing = [a for a in pattern.arguments if a not in values]
    assert not missing, (
        f"URL pattern {pattern.name!r} ({pattern.route}) takes {missing}: add a value for each "
        "to arguments() in tests/test_access_matrix.py"
    )
    return {a: values[a] for a in pattern.arguments}


def url_of(world: World, pattern: Pattern) -> str:
    if pattern.name in FIXED_PATHS:
        return FIXED_PATHS[pattern.name]
    return reverse(pattern.name, kwargs=arguments(world, pattern))


def outcome(response, url: str) -> str:
    """The response as the table writes it."""
    if response.status_code == 302:
        location = urlsplit(response["Location"])
        if location.path == reverse("login") and f"next={url}" in _unquoted(location.query):
            return "login"
    return str(response.status_code)


def _unquoted(query: str) -> str:
    from urllib.parse import unquote

    return unquote(query)


class Visitors:
    """A client per visitor, signed in once. Each request runs in a savepoint rolled back
    afterwards, and the client's cookies are put back, so that no request (a sign-out, a
    message left for the next page) changes what the next one finds."""

    def __init__(self, world: World):
        self.world = world
        self.api_client = Client()  # the API sets no cookie: one client serves every token
        self.clients = {}
        for name, user in world.people.items():
            client = Client()
            if user is not None:
                client.force_login(user)
            self.clients[name] = (client, client.cookies)

    def visit(self, pattern: Pattern, method: str, visitor: str) -> str:
        url = url_of(self.world, pattern)
        client, cookies = self.clients[visitor]
        headers = {}
        if pattern.is_api:  # a token, not the session
            client = self.api_client
            if visitor != "anon":
                headers["Authorization"] = f"Bearer {self.world.api_tokens[visitor]}"
        cache.clear()  # rate limits count every request from 127.0.0.1: start each afresh
        with transaction.atomic():
            send = client.get if method == "GET" else client.post
            response = send(url, headers=headers)
            transaction.set_rollback(True)
        client.cookies = SimpleCookie(cookies.output(header=""))
        return outcome(response, url)


# -- the tests --------------------------------------------------------------------------------


def test_every_url_pattern_has_rows_in_the_matrix():
    missing = [
        f"{p.name} {method}  ({p.route})"
        for p in app_patterns()
        for method in ("GET", "POST")
        if (p.name, method) not in EXPECTED
    ]
    assert not missing, (
        "URL patterns without an entry in the access matrix:\n  "
        + "\n  ".join(missing)
        + "\n"
        + HOW_TO_ADD.format(visitors=", ".join(VISITORS))
    )


def test_every_row_of_the_matrix_is_a_url_pattern():
    names = {p.name for p in app_patterns()}
    stale = sorted({name for name, _ in EXPECTED if name not in names})
    assert not stale, f"Rows for URL names that no longer exist: {stale}; remove them"


def test_every_visitor_gets_what_the_matrix_says(world):
    visitors = Visitors(world)
    wrong = []
    for pattern in app_patterns():
        for method in ("GET", "POST"):
            expected = EXPECTED.get((pattern.name, method))
            if expected is None:
                continue  # reported by test_every_url_pattern_has_rows_in_the_matrix
            for visitor in VISITORS:
                got = visitors.visit(pattern, method, visitor)
                if got != expected[visitor]:
                    wrong.append(
                        f"{pattern.name:28} {method:4} {visitor:8} expected "
                        f"{expected[visitor]:5} got {got}"
                    )
    assert not wrong, "Access differs from the matrix:\n" + "\n".join(wrong)


def test_a_session_alone_never_opens_the_json_api(world):
    """Only tokens authenticate the API: a signed-in browser (the owner's) gets nowhere."""
    client = Client()
    client.force_login(world.people["owner"])
    for pattern in app_patterns():
        if not pattern.is_api or pattern.name in ("api_openapi", "api_docs"):
            continue
        for method in ("GET", "POST"):
            response = (client.get if method == "GET" else client.post)(url_of(world, pattern))
            assert response.status_code in (401, 405), (pattern.name, method)


def test_the_admin_turns_away_people_who_are_not_staff(client, world):
    client.force_login(world.people["owner"])  # owns a project, but is not staff
    for url in ("/admin/", "/admin/generations/project/", "/admin/auth/user/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_a_stale_or_foreign_id_is_404_not_someone_elses_object(world, client):
    """An id from another project in this project's URL finds nothing: every lookup is
    scoped to the project the person was checked against."""
    other = MembershipFactory(user=world.people["outsider"], roles=["owner"]).project
    foreign = Generation.objects.create(
        project=other,
        endpoint="text-to-video",
        params={"prompt": "theirs"},
        estimated_cost="0.24",
        state=JobState.QUEUED,
    )
    client.force_login(world.people["owner"])
    url = reverse("generation", args=[world.project.uuid, foreign.uuid])
    assert client.get(url).status_code == 404
    url = reverse("generation_cancel", args=[world.project.uuid, foreign.uuid])
    assert client.post(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == JobState.QUEUED

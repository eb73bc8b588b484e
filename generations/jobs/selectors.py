"""Reads: plain keyword-only functions returning querysets or values."""

import functools

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from generations.jobs.models import Generation


def generation_list(
    *, project, state="", endpoint="", model="", prompt="", author=""
) -> QuerySet[Generation]:
    generations = Generation.objects.filter(project=project).select_related(
        "prompt_version__prompt", "requested_by"
    )
    if state:
        generations = generations.filter(state=state)
    if endpoint:
        generations = generations.filter(endpoint=endpoint)
    if model:
        generations = generations.filter(api_model=model)
    if prompt:
        generations = generations.filter(prompt_version__prompt__uuid=prompt)
    if author:
        generations = generations.filter(requested_by__username=author)
    return generations.order_by("-created_at", "-id")


def gallery_cards(*, project, **filters) -> QuerySet[Generation]:
    """The gallery: one card per version stack, its newest version, and each job in no stack
    (Generation.is_card, kept by services/stacks.py; its partial index gives any page)."""
    return (
        generation_list(project=project, **filters)
        .filter(is_card=True)
        .select_related("version__stack")
    )


def gallery_page(*, project, number, per_page: int, **filters) -> Page:
    """A page of the gallery's cards (`number` as given in the URL: get_page's rules)."""
    return _IdsFirstPaginator(gallery_cards(project=project, **filters), per_page).get_page(number)


class _IdsFirstPaginator(Paginator):
    """A deep page finds its ids first, in a subquery that reads only the ordering index (on
    PostgreSQL, once the visibility map is set, an index-only scan of gallery_cards), then
    joins just those rows to their prompt, author, version and stack. A plain OFFSET joins
    every row it skips, or makes PostgreSQL read and sort all the project's cards: at 10,000
    jobs the last page took 15 ms in PostgreSQL that way, 0.5 ms this way. The first pages
    keep the plain query, which stops after its rows: there the subquery cost 1-2 ms more."""

    DEEP = 10  # pages: from the 11th on

    def page(self, number):
        number = self.validate_number(number)
        if number <= self.DEEP:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=Subquery(ids)), number, self)


def generation_updated_at(*, user_id, project_uuid, generation_uuid):
    """(When a generation last changed, the password hash of the person `user_id`) if that
    person is active and a member of its project, else None: what a polling card compares
    with its copy, and what its session is verified against, in one query and no user loaded
    (generations/polling.py).

    Plain SQL: the ORM spent longer building this query than the database answering it, on
    the one path hit several times a second per open gallery. On PostgreSQL, a prepared
    statement: planning the four-table join cost the server 0.2 ms a poll, executing it 0.03."""
    uuid_field = Generation._meta.get_field("uuid")
    params = [
        uuid_field.get_db_prep_value(generation_uuid, connection),
        uuid_field.get_db_prep_value(project_uuid, connection),
        user_id,
    ]
    with _prepared_cursor() as cursor:
        cursor.execute(_UPDATED_AT_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    updated_at, password = row
    if timezone.is_naive(updated_at):  # SQLite keeps UTC with no zone, as the ORM knows
        updated_at = timezone.make_aware(updated_at, connection.timezone)
    return updated_at, password


def _prepared_cursor():
    """A cursor whose statements PostgreSQL prepares once per connection (kept by
    CONN_MAX_AGE), wrapped as Django wraps its own (errors translated, queries logged when
    DEBUG or in tests); Django's usual cursor elsewhere. Django leaves psycopg's automatic
    preparation off for the sake of transaction-mode poolers (PgBouncer before 1.21), which
    this app is not deployed behind: put one in front and this must go."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = _preparing_cursor_class()(connection.connection)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


@functools.cache
def _preparing_cursor_class():
    import psycopg  # only where PostgreSQL is used

    class PreparingCursor(psycopg.Cursor):
        """Server-side binding, and `prepare=True` whatever the caller passes (Django's
        cursor wrapper passes no such argument)."""

        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params, **{**kwargs, "prepare": True})

    return PreparingCursor


_UPDATED_AT_SQL = """
    SELECT g.updated_at, u.password
    FROM generations_generation g
    JOIN generations_project p ON p.id = g.project_id
    JOIN generations_membership m ON m.project_id = p.id
    JOIN auth_user u ON u.id = m.user_id
    WHERE g.uuid = %s AND p.uuid = %s AND m.user_id = %s AND u.is_active
"""

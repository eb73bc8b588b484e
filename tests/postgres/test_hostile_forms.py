"""Hostile values in every form field and query parameter of every page, on PostgreSQL.

SQLite stores a NUL byte and a string longer than its column without a word; PostgreSQL
refuses both, so what the main run cannot see is tried here (issue #21). Each page of the
access matrix's world (tests/test_access_matrix.py) is opened as its owner and as a guest
(anonymous, holding the share link); every form on it is sent again with one field at a time
set to a hostile value, every GET URL with every parameter name the pages use set to one, and
hypothesis then sends any text or bytes to any few fields of any form. Nothing may answer
500, and a request answered with an error (400 and up) may not have written a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_access_matrix import app_patterns, url_of, world  # noqa: F401 - the fixture

HOSTILE = {
    "a NUL byte": "before\x00after",
    "an overlong string": "x" * 5_000,
    "a malformed id": "zzz",
    "a negative number": "-1",
    "malformed UTF-8 (a lone surrogate)": b"\xed\xa0\x80",
}
# Pages not read as HTML: files, feeds and the JSON API (schemathesis fuzzes it).
NOT_PAGES = ("api/", "admin/")


class Forms(HTMLParser):
    """The forms of a page (action, method, {name: value}) and the query names of its links."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.link_names: set[str] = set()
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "?" in (attrs.get("href") or ""):
            self.link_names |= {name for name, _ in parse_qsl(urlsplit(attrs["href"]).query)}
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append({"action": attrs.get("action"), "method": method, "fields": {}})
        if not self.forms or "name" not in attrs:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and attrs.get("type") not in ("file", "submit", "button"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                fields.setdefault(attrs["name"], None)  # a name to try, sent only when hostile
            else:
                fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            fields[attrs["name"]] = ""
        elif tag == "select":
            self._select = attrs["name"]
            fields.setdefault(attrs["name"], None)
        elif tag == "option" and self._select and self.forms[-1]["fields"][self._select] is None:
            fields[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label == "generations"
    }


def sent(client: Client, method: str, url: str, data: dict) -> tuple[int | str, list]:
    """The status (or the exception a 500 would have shown), and the models written to;
    rolled back either way. The request has a savepoint of its own, so that a database error
    inside it leaves the transaction usable for counting."""
    cache.clear()  # the rate limits count every request from 127.0.0.1
    data = {k: v for k, v in data.items() if v is not None}  # unchecked boxes are not sent
    with transaction.atomic():
        before = row_counts()
        try:
            with transaction.atomic():
                if method == "get":
                    response = client.get(url + ("&" if "?" in url else "?") + urlencode(data))
                else:
                    response = client.post(url, data)
            status = response.status_code
        except Exception as exc:  # what the server would answer with a 500
            status = f"500 {type(exc).__name__}: {str(exc)[:120]}"
        after = row_counts()
        written = [label for label, count in after.items() if count != before[label]]
        transaction.set_rollback(True)
    return status, written


def failed(status: int | str, written: list) -> bool:
    return isinstance(status, str) or status >= 500 or (status >= 400 and written)


@dataclass
class Crawl:
    """What a visitor can send: the HTML pages it gets, their forms and query names."""

    client: Client
    urls: list[str] = field(default_factory=list)
    gets: list[tuple[str, dict]] = field(default_factory=list)  # (action, fields)
    posts: list[tuple[str, dict]] = field(default_factory=list)
    query_names: set[str] = field(default_factory=set)


def crawl(world, visitor: str) -> Crawl:  # noqa: F811 - the fixture's value
    client = Client()
    if world.people[visitor] is not None:
        client.force_login(world.people[visitor])
    found = Crawl(client)
    for pattern in app_patterns():
        if pattern.route.startswith(NOT_PAGES):
            continue
        url = url_of(world, pattern)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        found.urls.append(url)
        parser = Forms()
        parser.feed(response.content.decode())
        found.query_names |= parser.link_names
        for form in parser.forms:
            fields = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
            sends = found.gets if form["method"] == "get" else found.posts
            sends.append((form["action"] or url, fields))
            if form["method"] == "get":
                found.query_names |= set(fields)
    return found


@pytest.fixture
def static_files_plain(settings):
    # Production settings serve hashed static names from a manifest that tests do not build.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.mark.parametrize("visitor", ["owner", "anon"])
def test_no_hostile_value_in_a_form_or_a_query_ends_in_a_500_or_a_half_write(
    world,  # noqa: F811 - the fixture
    static_files_plain,
    visitor,
):
    found = crawl(world, visitor)
    assert found.urls and found.posts, "the crawl found nothing to send"
    wrong = []
    for what, value in HOSTILE.items():
        for url in found.urls:
            status, written = sent(
                found.client, "get", url, dict.fromkeys(found.query_names, value)
            )
            if failed(status, written):
                wrong.append(f"GET {url} with {what} in every query name: {status}")
        for method, forms in (("get", found.gets), ("post", found.posts)):
            for action, fields in forms:
                for name in fields:
                    status, written = sent(found.client, method, action, {**fields, name: value})
                    if failed(status, written):
                        wrong.append(
                            f"{method.upper()} {action} with {what} in {name!r}: {status}"
                            + (f", and rows were written: {written}" if written else "")
                        )
    assert not wrong, f"{len(wrong)} hostile requests went wrong:\n" + "\n".join(sorted(wrong))


# Any text at all, malformed UTF-8 as bytes, and the named hostile values.
ANY_VALUE = st.one_of(
    st.sampled_from(list(HOSTILE.values())),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_value_in_any_field_as_owner_or_guest(world, static_files_plain, data):  # noqa: F811
    """The property: whatever a field of any form receives, the answer is never a 500 and an
    error writes nothing. The crawl is made once; every request is rolled back."""
    if not hasattr(world, "crawls"):
        world.crawls = {visitor: crawl(world, visitor) for visitor in ("owner", "anon")}
    found = world.crawls[data.draw(st.sampled_from(["owner", "anon"]))]
    sends = [("get", form) for form in found.gets] + [("post", form) for form in found.posts]
    method, (action, fields) = data.draw(st.sampled_from(sends))
    names = data.draw(st.lists(st.sampled_from(sorted(fields) or ["q"]), min_size=1, max_size=3))
    values = {name: data.draw(ANY_VALUE) for name in names}
    status, written = sent(found.client, method, action, {**fields, **values})
    assert not failed(status, written), (method, action, values, status, written)

"""Delivery: approved versions, a zip streamed as it is made, manifests, and a version's
comments as CSV and as EDL markers."""

import csv
import io
import json
import os
import zipfile

import pytest
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs import services as jobs
from generations.review import comments, edl, zipstream
from generations.review import services as reviews
from tests.factories import AttemptFactory
from tests.reviewing import finish, finished, private_media, store_media

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


# -- the streamed zip --------------------------------------------------------------------------


def test_the_zip_is_made_a_chunk_at_a_time(tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(1_000_000))
    opened = []

    def opener(path):
        def open_():
            opened.append(path.name)
            return open(path, "rb")

        return open_

    second = tmp_path / "second.mp4"
    second.write_bytes(b"x" * 5000)
    stream = zipstream.zip_stream(
        [
            zipstream.Entry("big.mp4", size=big.stat().st_size, open=opener(big)),
            zipstream.Entry("second.mp4", size=5000, open=opener(second)),
            zipstream.Entry("manifest.json", size=2, data=b"{}", compress=True),
        ],
        chunk_size=16 * 1024,
    )
    first = next(stream)
    assert opened == ["big.mp4"]  # nothing is read ahead
    chunks = [first, *stream]
    assert len(chunks) > 50 and max(len(c) for c in chunks) <= 2 * 16 * 1024 + 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert archive.namelist() == ["big.mp4", "second.mp4", "manifest.json"]
    assert archive.read("big.mp4") == big.read_bytes()
    assert archive.getinfo("big.mp4").compress_type == zipfile.ZIP_STORED
    assert archive.getinfo("manifest.json").compress_type == zipfile.ZIP_DEFLATED
    assert archive.getinfo("big.mp4").flag_bits & 0x08  # sizes after the data: streamed


# -- the deliverables page and its files -------------------------------------------------------


@pytest.fixture
def approved(project, editor, reviewer, settings, tmp_path):
    """Two stacks with an approved version (one re-reviewed), one without."""
    private_media(settings, tmp_path)
    lighthouse_v1 = store_media(finished(project, editor, "Lighthouse"), tmp_path)
    lighthouse_v2 = store_media(
        finish(jobs.job_rerun(generation=lighthouse_v1, user=editor)), tmp_path
    )
    boat = store_media(finished(project, editor, '=HYPERLINK("http://x") a boat'), tmp_path)
    pending = store_media(finished(project, editor, "Pending shot"), tmp_path)
    for generation, request_id in (
        (lighthouse_v1, "req-1"),
        (lighthouse_v2, "req-2"),
        (boat, "req-3"),
    ):
        AttemptFactory(generation=generation, delivered=True, request_id=request_id)
    reviews.review_decide(version=lighthouse_v1.version, reviewer=reviewer, state="approved")
    reviews.review_decide(version=lighthouse_v2.version, reviewer=reviewer, state="approved")
    reviews.review_decide(version=boat.version, reviewer=reviewer, state="approved")
    return {"v1": lighthouse_v1, "v2": lighthouse_v2, "boat": boat, "pending": pending}


def test_the_page_lists_the_newest_approved_version_of_each_stack(
    client, project, viewer, reviewer, approved, django_assert_num_queries
):
    client.force_login(viewer)
    url = reverse("deliverables", args=[project.uuid])
    with django_assert_num_queries(6):
        html = client.get(url).content.decode()
    assert "Lighthouse v2" in html and "Lighthouse v1" not in html
    assert "a boat v1" in html and "Pending shot" not in html
    assert "<code>req-2</code>" in html and reviewer.username in html
    # A re-review that rejects the boat takes it off the list.
    reviews.review_decide(
        version=approved["boat"].version, reviewer=reviewer, state="rejected", comment="No"
    )
    assert "a boat" not in client.get(url).content.decode()


def test_the_zip_holds_the_videos_and_the_manifest(client, project, editor, approved):
    client.force_login(editor)
    response = client.get(reverse("deliverables_zip", args=[project.uuid]))
    assert response.streaming and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="project-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == [
        "hyperlinkhttpx-a-boat-v1.mp4",
        "lighthouse-v2.mp4",
        "manifest.csv",
        "manifest.json",
    ]
    v2 = approved["v2"]
    with v2.video.storage.open(v2.video.name, "rb") as stored:
        assert archive.read("lighthouse-v2.mp4") == stored.read()
    manifest = json.loads(archive.read("manifest.json"))
    row = next(r for r in manifest["videos"] if r["file"] == "lighthouse-v2.mp4")
    assert (row["version"], row["request_id"], row["cost_usd"], row["prompt"]) == (
        "v2",
        "req-2",
        "0.24",
        "Lighthouse",
    )
    assert row["parameters"]["model"] == "ltx-2-fast" and "prompt" not in row["parameters"]
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert rows[0]["prompt"].startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert json.loads(rows[1]["parameters"])["duration"] == 6


def test_manifests_download_alone(client, project, editor, approved):
    client.force_login(editor)
    as_csv = client.get(reverse("deliverables_manifest", args=[project.uuid, "csv"]))
    assert (
        as_csv["Content-Type"].startswith("text/csv")
        and "lighthouse-v2.mp4" in as_csv.content.decode()
    )
    as_json = client.get(reverse("deliverables_manifest", args=[project.uuid, "json"]))
    assert json.loads(as_json.content)["project"] == project.name
    assert (
        client.get(reverse("deliverables_manifest", args=[project.uuid, "xml"])).status_code == 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_members_read_deliverables(request, client, project, approved, role):
    client.force_login(request.getfixturevalue(role))
    expected = 404 if role == "outsider" else 200
    for name in ("deliverables", "deliverables_zip"):
        assert client.get(reverse(name, args=[project.uuid])).status_code == expected
    v2 = approved["v2"]
    for name in ("review_comments_csv", "review_comments_edl"):
        assert client.get(reverse(name, args=[project.uuid, v2.uuid])).status_code == expected


# -- comment exports ---------------------------------------------------------------------------


@pytest.fixture
def noted(project, editor, reviewer):
    generation = finished(project, editor)  # 25 fps
    version = generation.version
    hand = comments.comment_add(
        version=version,
        author=reviewer,
        body="Hand | six fingers\nfix",
        start_seconds=2,
        end_seconds=3.2,
    )
    comments.comment_add(version=version, author=editor, body="On it", parent=hand)
    comments.comment_resolve(comment=hand, user=editor, resolved=True)
    comments.comment_add(version=version, author=editor, body="=SUM(A1)", start_seconds=0.52)
    return generation


def test_comments_export_as_csv(client, project, viewer, noted):
    client.force_login(viewer)
    response = client.get(reverse("review_comments_csv", args=[project.uuid, noted.uuid]))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="a-kite-over-dunes-v1-comments.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["timecode_in"], r["timecode_out"], r["comment"]) for r in rows] == [
        ("00:00:00:13", "", "'=SUM(A1)"),
        ("00:00:02:00", "00:00:03:05", "Hand | six fingers\nfix"),
        ("00:00:02:00", "00:00:03:05", "On it"),
    ]
    assert rows[1]["resolved"] == "yes" and rows[2]["reply_to"] == rows[1]["id"]


def test_comments_export_as_edl_markers(client, project, viewer, reviewer, noted):
    client.force_login(viewer)
    response = client.get(reverse("review_comments_edl", args=[project.uuid, noted.uuid]))
    text = response.content.decode()
    assert response["Content-Disposition"].endswith('-comments.edl"')
    lines = text.split("\r\n")
    assert lines[:3] == ["TITLE: A kite over dunes v1", "FCM: NON-DROP FRAME", ""]
    assert (
        lines[3] == "001  001      V     C        00:00:00:13 00:00:00:14 00:00:00:13 00:00:00:14  "
    )
    assert lines[4].startswith(" |C:ResolveColorBlue |M:") and lines[4].endswith(" |D:1")
    assert lines[6].startswith("002  001      V     C        00:00:02:00 00:00:02:01")
    # Resolved: green; the range's 30 frames; no stray field separator or line break.
    hand = f" |C:ResolveColorGreen |M:{reviewer.username}: Hand six fingers fix |D:30"
    assert lines[7] == hand


def test_edl_markers_are_one_line_each():
    text = edl.edl(
        title="x\ny", fps=24, markers=[edl.Marker(start=1.0, end=None, text="a\r\n|C:evil\x00")]
    )
    assert text.splitlines() == [
        "TITLE: x y",
        "FCM: NON-DROP FRAME",
        "",
        "001  001      V     C        00:00:01:00 00:00:01:01 00:00:01:00 00:00:01:01  ",
        " |C:ResolveColorBlue |M:a C:evil |D:1",
        "",
    ]

"""The demo project `make run` opens on: a short sequence whose shots have prompts in several
versions, takes in the states a team meets (delivered, failed, waiting for a producer, retaken),
timeline comments, review decisions and selected takes.

Everything is made by the services the app itself calls, and every take goes the worker's way
(`jobs.run.generation_execute`: claim, the paid call, the video streamed to staging, stored with
its poster and tags, the spend settled), only against a simulator started here in-process on a
loopback port: no worker, no network, and never the real API. Its renders are cached in
`VAR_DIR/ltxsim-demo/cache`, so building the demo again takes a second or two."""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model

from generations.jobs import run
from generations.jobs import services as jobs
from generations.jobs.models import Generation
from generations.jobs.retakes import retake_from_comment
from generations.ltx import LTXClient, rules
from generations.projects.models import Membership, Project, Role
from generations.prompts import services as prompts
from generations.review import comments
from generations.review import services as reviews_services
from generations.review.models import ReviewState
from generations.sequences import services as sequences
from generations.simulator import server as sim_server
from generations.simulator.state import Config
from generations.spend import budgets

# Teammates who make, review and approve the demo's takes; they cannot sign in.
EDITOR, PRODUCER, REVIEWER = "demo-editor", "demo-producer", "demo-reviewer"
TEAM = {EDITOR: [Role.EDITOR], PRODUCER: [Role.PRODUCER], REVIEWER: [Role.REVIEWER]}
SEQUENCE_TITLE = "Harbour at dawn"
# A draft take: the cheapest settings every profile offers (0.24 USD at the docs' prices).
DRAFT = {"model": rules.FAST, "resolution": rules.RES_1080P, "fps": 25, "duration": 6}
# A final take above the approval amount: an editor's waits for a producer.
FINAL = {"model": rules.PRO, "resolution": "2560x1440", "fps": 25, "duration": 8}
APPROVAL_ABOVE = Decimal("0.50")
# Each call and store logs a line at INFO: `make run` would scroll past the demo's password.
QUIET_LOGGERS = ("generations.ltx.client", "generations.jobs.run", "ltxsim")


@dataclass
class Demo:
    project: Project
    owner: object
    team: dict
    client: LTXClient
    simulator: sim_server.SimulatorServer


def demo_wanted(*, project: Project) -> bool:
    """Only a project nobody has used yet gets the demo: seeding again, or seeding a demo
    project someone has worked in, adds nothing."""
    used = (project.prompts, project.generations, project.sequences)
    return not any(rows.exists() for rows in used)


def demo_build(*, project: Project, owner, simulator_dir: Path, api_key: str) -> None:
    """Fill `project` with the demo's content (see the module's docstring)."""
    team = _team(project)
    budgets.budget_set(
        project=project,
        user=owner,
        amount=Decimal("25.00"),
        monthly=True,
        alert_percents=[80, 100],
        approval_above=APPROVAL_ABOVE,
    )
    with _quiet(), _simulator(simulator_dir, api_key) as (server, client):
        demo = Demo(project, owner, team, client, server)
        sequence = sequences.sequence_create(project=project, user=owner, title=SEQUENCE_TITLE)
        _harbour_wakes(demo, sequence)
        _fisherman(demo, sequence)
        _night_falls(demo, sequence)


def _team(project: Project) -> dict:
    users = {}
    for username, roles in TEAM.items():
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(project=project, user=user, defaults={"roles": roles})
        users[username] = user
    return users


@contextlib.contextmanager
def _quiet():
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _simulator(data_dir: Path, api_key: str):
    server = sim_server.SimulatorServer(
        Config(api_keys=[api_key], host="127.0.0.1", port=0, data_dir=data_dir)
    )
    thread = threading.Thread(target=server.serve_forever, name="demo-ltxsim", daemon=True)
    thread.start()
    try:
        yield server, LTXClient(server.public_url, api_key, read_timeout=120)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _shot(demo: Demo, sequence, *, title: str, notes: str, first_words: str, versions: list):
    """A shot whose prompt has a first version in plain words, then versions written with
    the six elements (shot, scene, action, characters, camera, audio)."""
    shot = sequences.shot_add(
        sequence=sequence,
        user=demo.owner,
        title=title,
        notes=notes,
        target_seconds=DRAFT["duration"],
        prompt_text=first_words,
    )
    prompt = shot.prompt
    made = [prompt.current_version]
    for author, note, elements in versions:
        made.append(
            prompts.prompt_version_save(
                prompt=prompt,
                author=demo.team.get(author, demo.owner),
                based_on=prompt.current_version,
                elements=elements,
                settings={**DRAFT, "generate_audio": True},
                note=note,
            )
        )
    return shot, made


def _take(demo: Demo, version, *, user, settings=DRAFT, run_it=True) -> Generation:
    """A take of a prompt version, submitted as the generate form submits it and, when it is
    queued, run as a worker runs it."""
    generation = jobs.job_submit(
        project=demo.project,
        user=user,
        endpoint=rules.TEXT_TO_VIDEO,
        params={"prompt": version.text, "generate_audio": True, **settings},
        prompt_version=version,
    )
    if run_it:
        _run(demo, generation)
    return generation


def _run(demo: Demo, generation: Generation) -> Generation:
    run.generation_execute(generation_id=generation.pk, client=demo.client)
    generation.refresh_from_db()
    return generation


def _harbour_wakes(demo: Demo, sequence) -> None:
    """Three versions of the prompt, a take of v2 with changes requested on a range of it and
    retaken there, and an approved take of v3 selected for the cut."""
    editor, reviewer = demo.team[EDITOR], demo.team[REVIEWER]
    shot, versions = _shot(
        demo,
        sequence,
        title="The harbour wakes",
        notes="Establishing shot: empty quay first, then the gulls.",
        first_words="A small harbour at dawn, boats rocking, gulls overhead",
        versions=[
            (
                EDITOR,
                "Written with the six elements",
                {
                    "shot": "Wide establishing shot",
                    "scene": "A small stone harbour at dawn, mist on the water, fishing boats "
                    "moored in a row",
                    "action": "The boats rock gently as a flock of gulls crosses the frame",
                    "characters": "No people yet; the gulls are the only life",
                    "camera": "Slow dolly in from the harbour mouth",
                    "audio": "Water lapping against the hulls, distant gull cries",
                },
            ),
            (
                EDITOR,
                "Hold the empty quay before the gulls arrive",
                {
                    "shot": "Wide establishing shot",
                    "scene": "A small stone harbour at dawn, mist on the water, fishing boats "
                    "moored in a row, warm light on the quay",
                    "action": "The quay stays still for a moment, then gulls glide in from "
                    "the left and settle on the masts",
                    "characters": "No people yet; the gulls are the only life",
                    "camera": "Slow dolly in from the harbour mouth, steady and level",
                    "audio": "Water lapping against the hulls, a bell buoy, gull cries rising",
                },
            ),
        ],
    )
    first = _take(demo, versions[1], user=editor)
    ranged = comments.comment_add(
        version=first.version,
        author=reviewer,
        body="The gulls cross too early: hold the empty quay here first.",
        start_seconds=1.0,
        end_seconds=3.0,
    )
    comments.comment_add(
        version=first.version,
        author=reviewer,
        body="Lovely light on the water at this moment.",
        start_seconds=4.5,
    )
    reviews_services.review_decide(
        version=first.version,
        reviewer=reviewer,
        state=ReviewState.CHANGES_REQUESTED,
        comment="The gulls arrive before we have seen the quay: give it two still seconds.",
    )
    # The range retaken from its comment, by the owner (a producer: it needs no approval).
    _run(demo, retake_from_comment(comment=ranged, user=demo.owner))
    second = _take(demo, versions[2], user=editor)
    reviews_services.review_decide(
        version=second.version,
        reviewer=reviewer,
        state=ReviewState.APPROVED,
        comment="The quay holds, the gulls arrive on time.",
    )
    sequences.shot_take_select(shot=shot, version=second.version)


def _fisherman(demo: Demo, sequence) -> None:
    """A delivered take, selected for the cut; then a take of the prompt's next version that
    the API refused, its account having run out of credits (the stack's newest, so the
    gallery shows it, error and all)."""
    editor = demo.team[EDITOR]
    shot, versions = _shot(
        demo,
        sequence,
        title="The fisherman casts off",
        notes="Medium shot; his face stays in the light.",
        first_words="An old fisherman unties his boat and pushes off",
        versions=[
            (
                EDITOR,
                "Written with the six elements",
                {
                    "shot": "Medium shot at eye level",
                    "scene": "The end of the quay, ropes coiled on wet stone, morning haze",
                    "action": "He unties the rope, steps aboard and pushes off with one foot",
                    "characters": "An old fisherman in a yellow oilskin and a wool cap",
                    "camera": "Static, the boat drifting out of frame to the right",
                    "audio": "Rope creaking, water, a low engine starting",
                },
            ),
            (
                EDITOR,
                "Closer, so his face reads",
                {
                    "shot": "Medium close-up at eye level",
                    "scene": "The end of the quay, ropes coiled on wet stone, morning haze",
                    "action": "He unties the rope, glances at the sky, steps aboard and pushes "
                    "off with one foot",
                    "characters": "An old fisherman in a yellow oilskin and a wool cap, "
                    "weathered face",
                    "camera": "Static, the boat drifting out of frame to the right",
                    "audio": "Rope creaking, water, a low engine starting",
                },
            ),
        ],
    )
    delivered = _take(demo, versions[1], user=editor)
    sequences.shot_take_select(shot=shot, version=delivered.version)
    # The simulated account is empty for this one call: the API answers 402, and the job
    # fails saying so, as a real account's would. A later delivery clears the spend page's
    # warning about the account.
    demo.simulator.state.balance = Decimal(0)
    try:
        _take(demo, versions[2], user=editor)
    finally:
        demo.simulator.state.balance = None


def _night_falls(demo: Demo, sequence) -> None:
    """A draft take, and the final one an editor asked for at a higher price: it waits for a
    producer's approval."""
    editor = demo.team[EDITOR]
    shot, versions = _shot(
        demo,
        sequence,
        title="Night falls on the quay",
        notes="The last shot: lamps come on one by one.",
        first_words="The harbour at dusk, lamps lighting up along the quay",
        versions=[
            (
                EDITOR,
                "Written with the six elements",
                {
                    "shot": "Wide shot from the water",
                    "scene": "The same harbour at dusk, the sky deep blue, boats back in a row",
                    "action": "The quay lamps come on one by one from left to right",
                    "characters": "A lone figure walks home along the quay",
                    "camera": "Static on a tripod",
                    "audio": "Evening quiet, footsteps on stone, a last gull",
                },
            ),
        ],
    )
    _take(demo, versions[1], user=editor)
    _take(demo, versions[1], user=editor, settings=FINAL, run_it=False)

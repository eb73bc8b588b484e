"""Writing prompts: versions are immutable, saves are checked against the newest version."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from generations.core.activity import activity_record
from generations.ltx import rules
from generations.projects.models import Project
from generations.prompts import prompting, selectors
from generations.prompts.models import (
    ELEMENT_FIELDS,
    LibraryEntry,
    Prompt,
    PromptComment,
    PromptVersion,
)

DEFAULT_SETTINGS = {
    "model": rules.FAST,
    "duration": 8,
    "resolution": rules.RES_1080P,
    "fps": rules.DEFAULT_FPS,
    "generate_audio": True,
    "camera_motion": "",
}
REFERENCE_RE = re.compile(r"@([A-Za-z0-9][\w-]{0,59})")


class StaleSave(Exception):
    """The save was based on a version that is no longer the newest."""

    def __init__(self, current: PromptVersion):
        super().__init__(f"This prompt has changed since you opened it (now v{current.number})")
        self.current = current


def settings_clean(raw: dict) -> dict:
    """Default generation settings, checked against the support matrix (a message per field)."""
    values = {**DEFAULT_SETTINGS, **{k: v for k, v in raw.items() if k in DEFAULT_SETTINGS}}
    errors = {}
    try:
        values["duration"] = int(values["duration"])
        values["fps"] = int(values["fps"])
    except (TypeError, ValueError):
        errors["duration"] = "Duration and frame rate must be whole numbers"
    generate_audio = values["generate_audio"]
    if isinstance(generate_audio, str):
        generate_audio = generate_audio.lower() in ("1", "true", "on", "yes")
    values["generate_audio"] = bool(generate_audio)
    if values["camera_motion"] and values["camera_motion"] not in rules.CAMERA_MOTIONS:
        errors["camera_motion"] = f"Choose one of {', '.join(rules.CAMERA_MOTIONS)}, or none"
    if not errors:
        try:
            rules.check_support_matrix(
                values["model"], values["resolution"], values["fps"], values["duration"]
            )
            rules.check_camera_motion(values["model"], values["camera_motion"] or None)
        except rules.RequestInvalid as exc:
            errors[exc.field or "model"] = exc.message
    if errors:
        raise ValidationError(errors)
    return values


def version_fields(version: PromptVersion) -> dict:
    """A version as the builder's fields: its elements, its hand-written text, its settings."""
    return {
        **version.elements,
        "text": version.text if version.text_edited else "",
        **{**DEFAULT_SETTINGS, **version.settings},
    }


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return " ".join(str(a or "").split()) == " ".join(str(b or "").split())
    return a == b


@dataclass(frozen=True)
class Merge:
    fields: dict  # every field merged; where both sides changed it, mine
    conflicts: tuple[str, ...]  # the fields both sides changed, differently
    theirs_changed: tuple[str, ...]  # taken from theirs without asking


def prompt_merge(*, base: PromptVersion, theirs: PromptVersion, mine: dict) -> Merge:
    """Three-way merge of a draft made from `base` with `theirs`, saved meanwhile: a field
    changed on one side only takes that side's value; only a field both changed, differently,
    is a conflict for the person to decide."""
    before, after = version_fields(base), version_fields(theirs)
    fields, conflicts, taken = {}, [], []
    for name, original in before.items():
        ours = mine.get(name, original)
        if _same(ours, original):
            fields[name] = after[name]
            if not _same(after[name], original):
                taken.append(name)
        else:
            fields[name] = ours
            if not (_same(after[name], original) or _same(after[name], ours)):
                conflicts.append(name)
    return Merge(fields, tuple(conflicts), tuple(taken))


def library_references(elements: dict[str, str]) -> set[str]:
    return {m.group(1) for text in elements.values() for m in REFERENCE_RE.finditer(text or "")}


def expand_references(elements: dict[str, str], library: dict[str, str]) -> dict[str, str]:
    """Replace @Name with the library entry's wording; unknown names stay as written."""

    def replace(match):
        return library.get(match.group(1), match.group(0))

    return {name: REFERENCE_RE.sub(replace, text or "") for name, text in elements.items()}


def library_wording(*, project: Project) -> dict[str, str]:
    return dict(LibraryEntry.objects.filter(project=project).values_list("name", "description"))


def _prompt_activity(prompt: Prompt, actor, verb: str, summary: str) -> None:
    activity_record(project=prompt.project, actor=actor, verb=verb, summary=summary, prompt=prompt)


def _new_version(*, prompt, author, based_on, elements, text, settings, note) -> PromptVersion:
    elements = {name: (elements.get(name) or "").strip() for name in ELEMENT_FIELDS}
    library = library_wording(project=prompt.project)
    composed = prompting.compose(expand_references(elements, library))
    text = (text or "").strip()
    final = text or composed
    if not final:
        raise ValidationError({"text": "Write at least one element, or the final text"})
    number = (prompt.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return PromptVersion.objects.create(
        prompt=prompt,
        number=number,
        based_on=based_on,
        author=author,
        note=(note or "").strip()[:300],
        text=final,
        text_edited=" ".join(final.split()) != " ".join(composed.split()),
        settings=settings_clean(settings or {}),
        **elements,
    )


@transaction.atomic
def prompt_create(
    *, project: Project, author, title: str, elements=None, text="", settings=None, note=""
) -> Prompt:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Give the prompt a title"})
    prompt = Prompt.objects.create(project=project, title=title[:200], created_by=author)
    version = _new_version(
        prompt=prompt,
        author=author,
        based_on=None,
        elements=elements or {},
        text=text,
        settings=settings,
        note=note,
    )
    Prompt.objects.filter(pk=prompt.pk).update(current_version=version)
    prompt.current_version = version
    _prompt_activity(prompt, author, "prompt_created", f"created {title}")
    return prompt


@transaction.atomic
def prompt_version_save(
    *,
    prompt: Prompt,
    author,
    based_on: PromptVersion,
    elements: dict[str, str],
    text: str = "",
    settings: dict | None = None,
    note: str = "",
    title: str | None = None,
) -> PromptVersion:
    """Save a new version made from `based_on`; refused with StaleSave when someone else
    saved in between, so nobody silently overwrites a teammate."""
    # Lock the prompt row: two saves based on the same version cannot both pass the check.
    locked = Prompt.objects.select_for_update().get(pk=prompt.pk)
    if locked.current_version_id != based_on.pk:
        raise StaleSave(locked.current_version)
    version = _new_version(
        prompt=locked,
        author=author,
        based_on=based_on,
        elements=elements,
        text=text,
        settings=settings,
        note=note,
    )
    prompt.current_version = version
    prompt.title = (title or "").strip()[:200] or prompt.title
    prompt.save(update_fields=["current_version", "title", "updated_at"])
    _prompt_activity(prompt, author, "prompt_saved", f"saved {prompt.title} v{version.number}")
    return version


def prompt_version_restore(*, prompt: Prompt, version: PromptVersion, author) -> PromptVersion:
    """Restoring makes a new version with an old one's content; history stays whole."""
    return prompt_version_save(
        prompt=prompt,
        author=author,
        based_on=prompt.current_version,
        elements=version.elements,
        text=version.text if version.text_edited else "",
        settings=version.settings,
        note=f"Restored from v{version.number}",
    )


@transaction.atomic
def prompt_version_approve(*, prompt: Prompt, version: PromptVersion, user) -> None:
    if version.prompt_id != prompt.pk:
        raise ValidationError("That version belongs to another prompt")
    Prompt.objects.filter(pk=prompt.pk).update(approved_version=version)
    prompt.approved_version = version
    _prompt_activity(prompt, user, "prompt_approved", f"approved {prompt.title} v{version.number}")


def prompt_duplicate(*, prompt: Prompt, author) -> Prompt:
    source = prompt.current_version
    return prompt_create(
        project=prompt.project,
        author=author,
        title=f"{prompt.title} (copy)",
        elements=source.elements,
        text=source.text if source.text_edited else "",
        settings=source.settings,
        note=f"Duplicated from {prompt.title} v{source.number}",
    )


@transaction.atomic
def prompt_comment_add(
    *, prompt: Prompt, version: PromptVersion, author, body: str, parent=None
) -> PromptComment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first"})
    if parent is not None and parent.prompt_id != prompt.pk:
        raise ValidationError("You can only reply to a comment on the same prompt")
    comment = PromptComment.objects.create(
        prompt=prompt, version=version, author=author, body=body[:5000], parent=parent
    )
    _prompt_activity(
        prompt, author, "prompt_commented", f"commented on {prompt.title} v{version.number}"
    )
    return comment


def prompt_comment_resolve(*, comment: PromptComment, user, resolved: bool) -> None:
    comment.resolved_at = timezone.now() if resolved else None
    comment.resolved_by = user if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by"])


@transaction.atomic
def library_entry_save(
    *, project: Project, user, kind: str, name: str, description: str, entry=None
) -> LibraryEntry:
    name = (name or "").strip().lstrip("@")
    description = (description or "").strip()
    errors = {}
    if not REFERENCE_RE.fullmatch("@" + name):
        errors["name"] = "Use letters, digits, - or _ (it is typed as @Name in prompts)"
    if not description:
        errors["description"] = "Describe the character or location"
    if kind not in LibraryEntry.Kind.values:
        errors["kind"] = "Choose character or location"
    entry = entry or LibraryEntry(project=project)
    if LibraryEntry.objects.filter(project=project, name=name).exclude(pk=entry.pk).exists():
        errors["name"] = f"@{name} already exists in this project"
    elif entry.pk and name != entry.name and "name" not in errors:
        # A rename would leave every prompt naming the old @name with a reference to nothing.
        users = selectors.prompts_using_reference(project=project, name=entry.name)
        if users:
            titles = ", ".join(prompt.title for prompt in users[:3])
            errors["name"] = (
                f"@{entry.name} is used by {len(users)} prompt{'s' if len(users) > 1 else ''} "
                f"({titles}{', …' if len(users) > 3 else ''}): change them first, or add "
                f"@{name} as a new entry"
            )
    if errors:
        raise ValidationError(errors)
    entry.kind, entry.name, entry.description, entry.updated_by = kind, name, description, user
    entry.save()
    activity_record(project=project, actor=user, verb="library_saved", summary=f"saved @{name}")
    return entry


def prompt_take_library_wording(*, prompt: Prompt, author) -> PromptVersion:
    """A new version whose text is recomposed with the library's current wording."""
    current = prompt.current_version
    return prompt_version_save(
        prompt=prompt,
        author=author,
        based_on=current,
        elements=current.elements,
        settings=current.settings,
        note="Took the library's new wording",
    )

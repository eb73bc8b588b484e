"""The prompt builder: list, create, edit with live composition and checks, history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from generations.core.access import get_project_for
from generations.core.params import int_param, uuid_param
from generations.core.textdiff import word_diff
from generations.ltx import rules
from generations.projects.models import Role
from generations.prompts import prompting, selectors
from generations.prompts import services as prompt_service
from generations.prompts.forms import CommentForm, LibraryEntryForm, PromptForm
from generations.prompts.models import ELEMENT_FIELDS, LibraryEntry, Prompt, PromptComment

WRITERS = (Role.EDITOR,)
APPROVERS = (Role.REVIEWER, Role.PRODUCER)
COMMENTERS = (Role.EDITOR, Role.REVIEWER, Role.PRODUCER)
CHOSEN_SETTINGS = ("model", "resolution", "fps", "duration")  # settings_choices' arguments


def get_prompt_for(request, project_uuid, prompt_uuid, *roles) -> Prompt:
    project = get_project_for(request, project_uuid, *roles)
    return get_object_or_404(
        Prompt.objects.select_related("current_version", "approved_version", "project"),
        project=project,
        uuid=prompt_uuid,
    )


def _apply_form_errors(form, error: ValidationError):
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _initial_from_version(prompt: Prompt, version) -> dict:
    settings = {**prompt_service.DEFAULT_SETTINGS, **version.settings}
    return {
        "title": prompt.title,
        **version.elements,
        "text": version.text if version.text_edited else "",
        **settings,
        "based_on": version.pk,
    }


def _builder_context(request, project, form, prompt=None, **extra):
    values = form.data if form.is_bound else form.initial
    return {
        "project": project,
        "prompt": prompt,
        "form": form,
        "element_fields": [form[name] for name in ELEMENT_FIELDS],
        "terms": prompting.HELPFUL_TERMS,
        "can_write": request.membership.has_role(*WRITERS),
        "can_approve": request.membership.has_role(*APPROVERS),
        "can_comment": request.membership.has_role(*COMMENTERS),
        **settings_choices(*(values.get(name) for name in CHOSEN_SETTINGS)),
        **extra,
    }


def settings_choices(model, resolution, fps, duration) -> dict:
    """Only valid combinations: resolutions for the model, fps for both, then durations."""
    model = model if model in rules.MODELS else rules.FAST
    resolutions = rules.allowed_resolutions(model)
    resolution = resolution if resolution in resolutions else resolutions[0]
    fps_choices = rules.allowed_fps(model, resolution)
    fps = int_param(fps) if int_param(fps) in fps_choices else fps_choices[0]
    durations = rules.allowed_durations(model, resolution, fps)
    duration = int_param(duration) if int_param(duration) in durations else durations[0]
    return {
        "choice": {"model": model, "resolution": resolution, "fps": fps, "duration": duration},
        "models": rules.MODELS,
        "resolutions": resolutions,
        "fps_choices": fps_choices,
        "durations": durations,
    }


@login_required
@require_GET
def prompt_list(request, project_uuid):
    project = get_project_for(request, project_uuid)
    prompts = selectors.prompt_list(project=project)
    return render(
        request,
        "prompts/prompts.html",
        {
            "project": project,
            "prompts": prompts,
            "can_write": request.membership.has_role(*WRITERS),
        },
    )


@login_required
def prompt_new(request, project_uuid):
    project = get_project_for(request, project_uuid, *WRITERS)
    if request.method == "POST":
        form = PromptForm(request.POST)
        if form.is_valid():
            try:
                prompt = prompt_service.prompt_create(
                    project=project,
                    author=request.user,
                    title=form.cleaned_data["title"],
                    elements=form.elements(),
                    text=form.cleaned_data["text"],
                    settings=form.settings(),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                _apply_form_errors(form, exc)
            else:
                messages.success(request, f"Saved {prompt.title} v1")
                return redirect("prompt", project_uuid=project.uuid, prompt_uuid=prompt.uuid)
    else:
        initial = {**prompt_service.DEFAULT_SETTINGS}
        if request.GET.get("template") == "guide":
            initial.update(prompting.GUIDE_EXAMPLE)
        form = PromptForm(initial=initial)
    return render(
        request,
        "prompts/prompt_builder.html",
        _builder_context(request, project, form),
        status=400 if form.is_bound else 200,
    )


# -- the builder ---------------------------------------------------------------------------


@login_required
def prompt_detail(request, project_uuid, prompt_uuid):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid)
    project = prompt.project
    if request.method == "POST":
        get_project_for(request, project_uuid, *WRITERS)
        return _prompt_save(request, project, prompt)
    form = PromptForm(initial=_initial_from_version(prompt, prompt.current_version))
    if not request.membership.has_role(*WRITERS):
        # Read only, and seen to be: typing into fields that nothing saves loses the words.
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "prompts/prompt_builder.html",
        _builder_context(
            request, project, form, prompt, comments=selectors.prompt_comments(prompt=prompt)
        ),
    )


def _prompt_save(request, project, prompt):
    form = PromptForm(request.POST)
    conflict = None
    if form.is_valid():
        based_on = prompt.versions.filter(pk=form.cleaned_data["based_on"]).first()
        if based_on is None:
            form.add_error(None, "This form does not say which version it was based on")
        else:
            fields = _draft(form)
            undecided = []
            if request.POST.get("resolve") == "merge":
                # The fields both people changed: each takes the side the person chose.
                theirs = prompt_service.version_fields(prompt.current_version)
                for name in request.POST.get("conflicts", "").split(","):
                    choice = request.POST.get(f"merge_{name}")
                    if name in theirs and choice == "theirs":
                        fields[name] = theirs[name]
                    elif name in theirs and choice != "mine":
                        undecided.append(form.fields[name].label or name)
            if undecided:
                form.add_error(None, f"Choose theirs or yours for: {', '.join(undecided)}")
            else:
                try:
                    version = _save(request, prompt, form, based_on, fields)
                except prompt_service.StaleSave as stale:
                    draft = prompt_service.prompt_merge(
                        base=based_on, theirs=stale.current, mine=fields
                    )
                    if not draft.conflicts:
                        # Nobody's change is lost: saved again on theirs, merged field by field.
                        version = _retry_merged(request, prompt, form, stale.current, draft)
                        if version is not None:
                            return redirect(
                                "prompt", project_uuid=project.uuid, prompt_uuid=prompt.uuid
                            )
                    conflict = _conflict(prompt.current_version, form, draft)
                except ValidationError as exc:
                    _apply_form_errors(form, exc)
                else:
                    messages.success(request, f"Saved {prompt.title} v{version.number}")
                    return redirect("prompt", project_uuid=project.uuid, prompt_uuid=prompt.uuid)
    if conflict:
        # The draft stays in the form, merged and now based on their version; the panel asks
        # only about the fields both changed.
        data = request.POST.copy()
        for name, value in conflict["merge"].fields.items():
            if name == "generate_audio":
                data.pop(name, None)
                if value:
                    data[name] = "on"
            else:
                data[name] = "" if value is None else str(value)
        data["based_on"] = str(conflict["current"].pk)
        form = PromptForm(data)
        form.is_valid()
    return render(
        request,
        "prompts/prompt_builder.html",
        _builder_context(
            request,
            project,
            form,
            prompt,
            conflict=conflict,
            comments=selectors.prompt_comments(prompt=prompt),
        ),
        status=409 if conflict else 400,
    )


def _draft(form) -> dict:
    return {**form.elements(), "text": form.cleaned_data["text"], **form.settings()}


def _save(request, prompt, form, based_on, fields):
    return prompt_service.prompt_version_save(
        prompt=prompt,
        author=request.user,
        based_on=based_on,
        elements={name: fields[name] for name in ELEMENT_FIELDS},
        text=fields["text"],
        settings={name: fields[name] for name in prompt_service.DEFAULT_SETTINGS},
        note=form.cleaned_data["note"],
        title=form.cleaned_data["title"],
    )


def _retry_merged(request, prompt, form, current, draft):
    try:
        version = _save(request, prompt, form, current, draft.fields)
    except (prompt_service.StaleSave, ValidationError):
        return None  # saved again meanwhile, or the merge is not a valid prompt: ask
    who = current.author.get_username() if current.author else "Someone"
    taken = ", ".join(str(form.fields[name].label or name) for name in draft.theirs_changed)
    messages.success(
        request,
        f"{who} saved v{current.number} while you edited: their changes"
        + (f" ({taken})" if taken else "")
        + f" and yours are both in v{version.number}",
    )
    return version


def _conflict(current, form, merge) -> dict:
    theirs = prompt_service.version_fields(current)
    changes = [
        {
            "name": name,
            "label": form.fields[name].label or name,
            "theirs": theirs[name],
            "mine": merge.fields[name],
            "diff": word_diff(str(theirs[name] or ""), str(merge.fields[name] or "")),
        }
        for name in merge.conflicts
    ]
    return {"current": current, "changes": changes, "merge": merge}


@login_required
@require_POST
def prompt_compose(request, project_uuid):
    """The live preview: the composed paragraph and the guide's checks, as the person types."""
    project = get_project_for(request, project_uuid)
    elements = {name: request.POST.get(name, "") for name in ELEMENT_FIELDS}
    text = request.POST.get("text", "")
    library = prompt_service.library_wording(project=project)
    # Checked as sent: with the library's wording in place of each @Name.
    expanded = prompt_service.expand_references(elements, library)
    composed = prompting.compose(expanded)
    final = text.strip() or composed
    settings = {"camera_motion": request.POST.get("camera_motion", "")}
    findings = prompting.check(expanded, final, settings)
    return render(
        request,
        "prompts/prompt_builder.html#preview",
        {
            "composed": composed,
            "final": final,
            "drifted": bool(text.strip()) and " ".join(text.split()) != " ".join(composed.split()),
            "findings": _highlight(findings, expanded, final),
            "unknown_refs": sorted(prompt_service.library_references(elements) - set(library)),
        },
    )


def _highlight(findings, elements, final) -> list[dict]:
    """Each finding with the words that triggered it shown in their context."""
    shown = []
    for finding in findings:
        source = final if finding.element == "text" else elements.get(finding.element, "")
        item = {"finding": finding, "before": "", "match": "", "after": ""}
        if finding.start is not None and finding.end is not None:
            item["before"] = source[max(0, finding.start - 40) : finding.start]
            item["match"] = source[finding.start : finding.end]
            item["after"] = source[finding.end : finding.end + 40]
        shown.append(item)
    return shown


@login_required
@require_GET
def prompt_settings_fields(request, project_uuid):
    project = get_project_for(request, project_uuid)
    choices = settings_choices(*(request.GET.get(name) for name in CHOSEN_SETTINGS))
    context = {"project": project, **choices}
    return render(request, "prompts/prompt_builder.html#settings-fields", context)


# -- history -------------------------------------------------------------------------------


@login_required
@require_GET
def prompt_history(request, project_uuid, prompt_uuid):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid)
    versions = list(selectors.prompt_versions(prompt=prompt))
    numbers = [v.number for v in versions]
    newer = int_param(request.GET.get("b")) or (numbers[0] if numbers else None)
    older = int_param(request.GET.get("a")) or (numbers[1] if len(numbers) > 1 else newer)
    by_number = {v.number: v for v in versions}
    if older not in by_number or newer not in by_number:
        raise Http404("No such version")
    a, b = by_number[older], by_number[newer]
    diffs = [
        {
            "label": prompting.ELEMENT_LABELS[name],
            "parts": word_diff(a.elements[name], b.elements[name]),
        }
        for name in ELEMENT_FIELDS
        if a.elements[name] or b.elements[name]
    ]
    return render(
        request,
        "prompts/prompt_history.html",
        {
            "project": prompt.project,
            "prompt": prompt,
            "versions": versions,
            "a": a,
            "b": b,
            "diffs": diffs,
            "text_diff": word_diff(a.text, b.text),
            # Each setting that differs (a camera move or the sound alone, too), in order.
            "settings_changed": [
                (key, a.settings.get(key), b.settings.get(key))
                for key in dict.fromkeys([*a.settings, *b.settings])
                if a.settings.get(key) != b.settings.get(key)
            ],
            "can_write": request.membership.has_role(*WRITERS),
            "can_approve": request.membership.has_role(*APPROVERS),
        },
    )


def _version(prompt, number):
    return get_object_or_404(prompt.versions, number=number)


@login_required
@require_POST
def prompt_restore(request, project_uuid, prompt_uuid, number):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid, *WRITERS)
    version = prompt_service.prompt_version_restore(
        prompt=prompt, version=_version(prompt, number), author=request.user
    )
    messages.success(request, f"Restored v{number} as v{version.number}")
    return redirect("prompt", project_uuid=project_uuid, prompt_uuid=prompt_uuid)


@login_required
@require_POST
def prompt_approve(request, project_uuid, prompt_uuid, number):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid, *APPROVERS)
    prompt_service.prompt_version_approve(
        prompt=prompt, version=_version(prompt, number), user=request.user
    )
    messages.success(request, f"v{number} is now the approved version of {prompt.title}")
    return redirect("prompt_history", project_uuid=project_uuid, prompt_uuid=prompt_uuid)


@login_required
@require_POST
def prompt_duplicate(request, project_uuid, prompt_uuid):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid, *WRITERS)
    copy = prompt_service.prompt_duplicate(prompt=prompt, author=request.user)
    messages.success(request, f"Duplicated as {copy.title}")
    return redirect("prompt", project_uuid=project_uuid, prompt_uuid=copy.uuid)


@login_required
@require_POST
def prompt_take_wording(request, project_uuid, prompt_uuid):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid, *WRITERS)
    # Read before anything is written: a malformed entry is a 400 with no new version.
    entry_uuid = uuid_param(request.POST.get("entry"), "library entry")
    try:
        version = prompt_service.prompt_take_library_wording(prompt=prompt, author=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{prompt.title} v{version.number} uses the new wording")
    if LibraryEntry.objects.filter(project=prompt.project, uuid=entry_uuid).exists():
        return redirect("library_entry", project_uuid=project_uuid, entry_uuid=entry_uuid)
    return redirect("prompt", project_uuid=project_uuid, prompt_uuid=prompt_uuid)


@login_required
@require_POST
def prompt_comment(request, project_uuid, prompt_uuid):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid, *COMMENTERS)
    form = CommentForm(request.POST)
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = get_object_or_404(PromptComment, pk=form.cleaned_data["parent"], prompt=prompt)
        prompt_service.prompt_comment_add(
            prompt=prompt,
            version=prompt.current_version,
            author=request.user,
            body=form.cleaned_data["body"],
            parent=parent,
        )
    else:
        messages.error(request, "A comment needs some text")
    return redirect("prompt", project_uuid=project_uuid, prompt_uuid=prompt_uuid)


@login_required
@require_POST
def prompt_comment_resolve(request, project_uuid, prompt_uuid, comment_id):
    prompt = get_prompt_for(request, project_uuid, prompt_uuid, *COMMENTERS)
    comment = get_object_or_404(PromptComment, pk=comment_id, prompt=prompt)
    prompt_service.prompt_comment_resolve(
        comment=comment, user=request.user, resolved=request.POST.get("resolved") != "0"
    )
    return redirect("prompt", project_uuid=project_uuid, prompt_uuid=prompt_uuid)


# -- the library ---------------------------------------------------------------------------


def _library_entry_save(request, project, entry=None):
    """The entry saved from the POSTed form, and the form (with its errors when not saved)."""
    get_project_for(request, project.uuid, *WRITERS)
    form = LibraryEntryForm(request.POST)
    if form.is_valid():
        try:
            entry = prompt_service.library_entry_save(
                project=project, user=request.user, entry=entry, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_form_errors(form, exc)
        else:
            messages.success(request, f"Saved @{entry.name}")
            return entry, form
    return None, form


@login_required
def library(request, project_uuid):
    project = get_project_for(request, project_uuid)
    form = LibraryEntryForm()
    if request.method == "POST":
        entry, form = _library_entry_save(request, project)
        if entry:
            return redirect("library", project_uuid=project.uuid)
    return render(
        request,
        "prompts/library.html",
        {
            "project": project,
            "entries": LibraryEntry.objects.filter(project=project),
            "form": form,
            "can_write": request.membership.has_role(*WRITERS),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def library_entry(request, project_uuid, entry_uuid):
    project = get_project_for(request, project_uuid)
    entry = get_object_or_404(LibraryEntry, project=project, uuid=entry_uuid)
    if request.method == "POST":
        saved, form = _library_entry_save(request, project, entry)
        if saved:
            return redirect("library_entry", project_uuid=project.uuid, entry_uuid=entry.uuid)
    else:
        form = LibraryEntryForm(
            initial={"kind": entry.kind, "name": entry.name, "description": entry.description}
        )
    return render(
        request,
        "prompts/library_entry.html",
        {
            "project": project,
            "entry": entry,
            "form": form,
            "users": selectors.prompts_using_reference(project=project, name=entry.name),
            "can_write": request.membership.has_role(*WRITERS),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def library_names(request, project_uuid):
    """For the @ menu in the builder: names starting with what was typed."""
    project = get_project_for(request, project_uuid)
    prefix = request.GET.get("q", "")[:60]
    entries = LibraryEntry.objects.filter(project=project, name__istartswith=prefix)
    return JsonResponse({"entries": list(entries.values("name", "kind", "description")[:10])})

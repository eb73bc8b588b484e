"""Forms parse and shape input; the rules live in services and `generations.ltx.rules`."""

from django import forms

from generations.ltx import rules
from generations.prompts import prompting
from generations.prompts.models import ELEMENT_FIELDS, LibraryEntry


# Choices are callables: the capabilities profile in force says them when the form is shown.
def _models():
    return [(m, m) for m in rules.MODELS]


def _resolutions():
    return [(r, r) for r in rules.RESOLUTIONS]


def _fps_values():
    return [(f, f"{f} fps") for f in rules.FPS_VALUES]


def _durations():
    return [(d, f"{d} s") for d in rules.DURATIONS]


def _camera_motions():
    # Short enough to be read whole in a phone's select.
    return [("", "None (in the prompt's words)")] + [
        (m, m.replace("_", " ").capitalize()) for m in rules.CAMERA_MOTIONS
    ]


class PromptForm(forms.Form):
    # Refusals say what to do, as the services' do, not Django's "This field is required."
    title = forms.CharField(max_length=200, error_messages={"required": "Give the prompt a title"})
    shot = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    scene = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    action = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    characters = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    camera = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    audio = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    text = forms.CharField(
        required=False,
        label="Final text",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Leave empty to use the composed paragraph; edit it to fine-tune by hand.",
    )
    note = forms.CharField(required=False, max_length=300, label="Note for this version")
    model = forms.ChoiceField(choices=_models)
    resolution = forms.ChoiceField(choices=_resolutions)
    fps = forms.TypedChoiceField(coerce=int, choices=_fps_values)
    duration = forms.TypedChoiceField(coerce=int, choices=_durations)
    generate_audio = forms.BooleanField(required=False, label="Generate audio")
    camera_motion = forms.ChoiceField(
        required=False,
        choices=_camera_motions,
        help_text="A preset move sent beside the prompt; without one, the camera element says it.",
    )
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ELEMENT_FIELDS:
            field = self.fields[name]
            field.label = prompting.ELEMENT_LABELS[name]
            field.help_text = prompting.ELEMENT_HELP[name]
            field.widget.attrs.update(
                {"data-element": name, "class": "element", "placeholder": field.help_text}
            )

    def elements(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in ELEMENT_FIELDS}

    def settings(self) -> dict:
        return {
            name: self.cleaned_data.get(name)
            for name in ("model", "resolution", "fps", "duration", "generate_audio")
        } | {"camera_motion": self.cleaned_data.get("camera_motion") or ""}


class LibraryEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=LibraryEntry.Kind.choices)
    name = forms.CharField(
        max_length=60,
        help_text="Typed as @Name in prompt elements.",
        error_messages={"required": "Name it: it is typed as @Name in prompts"},
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The wording that replaces @Name in the composed prompt.",
        error_messages={"required": "Describe the character or location"},
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        error_messages={"required": "A comment needs some text"},
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

"""The spend page's forms: the budget, the spend policy and a ledger adjustment."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from generations.ltx import rules
from generations.ltx.pricing import CURRENCY
from generations.spend.budgets import MAX_BUDGET
from generations.spend.models import Budget, SpendPolicy


class BudgetForm(forms.Form):
    amount = forms.DecimalField(
        label=f"Budget ({CURRENCY})",
        required=False,
        min_value=0,
        max_value=MAX_BUDGET,
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty for no limit. Jobs that would go over it are refused.",
    )
    period = forms.ChoiceField(
        label="Counted",
        choices=[("month", "Per calendar month"), ("all", "For the project's whole life")],
        widget=forms.RadioSelect,
    )
    approval_above = forms.DecimalField(
        label=f"Producer approval above ({CURRENCY})",
        required=False,
        min_value=0,
        max_value=MAX_BUDGET,
        max_digits=12,
        decimal_places=2,
        help_text="A job estimated above this waits until a producer approves it. "
        "Leave empty to let every job run.",
    )
    alert_percents = forms.CharField(
        label="Alert producers at (% of the budget)",
        required=False,
        help_text="Comma-separated, for example 80, 100. Once per threshold and period.",
    )

    def clean_alert_percents(self) -> list[int]:
        percents = []
        for part in self.cleaned_data["alert_percents"].replace(";", ",").split(","):
            if not part.strip():
                continue
            try:
                percent = int(part.strip().rstrip("%").strip())
            except ValueError:
                raise ValidationError("List whole percentages, for example 50, 80, 100") from None
            if not 1 <= percent <= 1000:
                raise ValidationError("Each alert is a percentage from 1 to 1000")
            percents.append(percent)
        return sorted(set(percents))

    @classmethod
    def for_budget(cls, budget: Budget | None) -> "BudgetForm":
        budget = budget or Budget()  # the model's defaults
        return cls(
            initial={
                "amount": budget.amount,
                "approval_above": budget.approval_above,
                "period": "month" if budget.monthly else "all",
                "alert_percents": ", ".join(str(p) for p in budget.alert_percents),
            }
        )


class PolicyForm(forms.Form):
    enabled = forms.BooleanField(
        label="Keep costly settings for approved prompt versions",
        required=False,
        help_text="Jobs from a prompt version that is not approved (or from no prompt) may "
        "only use the settings ticked below.",
    )
    draft_models = forms.MultipleChoiceField(
        label="Models without an approval",
        required=False,
        choices=[(m, m) for m in rules.MODELS],
        widget=forms.CheckboxSelectMultiple,
    )
    draft_resolutions = forms.MultipleChoiceField(
        label="Resolutions without an approval",
        required=False,
        choices=[(r, r) for r in rules.RESOLUTIONS],
        widget=forms.CheckboxSelectMultiple,
    )

    @classmethod
    def for_policy(cls, policy: SpendPolicy | None) -> "PolicyForm":
        # No policy yet: the model's defaults.
        return cls(initial=model_to_dict(policy or SpendPolicy(), fields=cls.base_fields))


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        label=f"Amount ({CURRENCY})",
        max_digits=12,
        decimal_places=2,
        help_text="Negative for a refund or credit, positive for a charge the ledger missed.",
    )
    reason = forms.CharField(label="Why", max_length=250)

    def __init__(self, *args, **kwargs):
        # Its own ids: the budget form on the same page has an `amount` too, and two
        # id_amount would leave a label (and the help it describes) on the wrong field.
        kwargs.setdefault("auto_id", "id_adjust_%s")
        super().__init__(*args, **kwargs)

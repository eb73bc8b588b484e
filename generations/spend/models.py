from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from generations.core.models import AppendOnlyQuerySet
from generations.ltx import capabilities
from generations.ltx.capabilities import ALL_ENDPOINTS, ON_A_VIDEO


def default_alert_percents() -> list[int]:
    return [80, 100]


class Budget(models.Model):
    """A project's spending limit (USD), for its whole life or per calendar month; without an
    amount the project spends without a limit (still recorded)."""

    project = models.OneToOneField(
        "generations.Project", on_delete=models.CASCADE, related_name="budget"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    monthly = models.BooleanField(
        default=True, help_text="The amount is for each calendar month, not the project's life."
    )
    # A job estimated above this waits for a producer's approval (unless a producer asked).
    approval_above = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Producers are alerted once per period when spend passes each of these percentages.
    alert_percents = models.JSONField(default=default_alert_percents, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        if self.amount is None:
            return f"no budget for {self.project}"
        return f"{self.amount} USD {'a month' if self.monthly else 'in all'} for {self.project}"


class SpendPeriod(models.Model):
    """The running total of a project's ledger in a month (or its whole life, no period), so
    that a budget holds under simultaneous submissions (spend/budgets.py). Whole cents, so
    that the comparison is exact on every database; figures shown are summed from the ledger."""

    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="spend_periods"
    )
    period = models.DateField(null=True, blank=True)  # first day of the month; empty: all time
    limit_cents = models.BigIntegerField(null=True, blank=True)
    committed_cents = models.BigIntegerField(default=0)
    # What was recorded without the budget's consent (a charge above its estimate, a lowered
    # budget): the backstop constraint allows that much above the limit and no more.
    overrun_cents = models.BigIntegerField(default=0)
    # Its ledger entries; the lifetime row's count keys the dashboard's cache (entries only grow).
    entries = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period"],
                condition=models.Q(period__isnull=False),
                name="one_spend_row_per_month",
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(period__isnull=True),
                name="one_lifetime_spend_row",
            ),
            models.CheckConstraint(
                condition=models.Q(limit_cents__isnull=True)
                | models.Q(
                    committed_cents__lte=models.F("limit_cents") + models.F("overrun_cents")
                ),
                name="spend_within_limit",
            ),
        ]

    def __str__(self):
        when = self.period.strftime("%B %Y") if self.period else "all time"
        limit = "no limit" if self.limit_cents is None else f"{self.limit_cents} cents"
        return f"{self.project} {when}: {self.committed_cents} cents of {limit}"


class LedgerEntry(models.Model):
    """One movement of money, only ever added; every spend figure is a sum of these. A
    reservation holds +estimate and its release gives it back; a possible charge is +amount
    until a producer settles it (-amount); charges and adjustments are what was spent."""

    class Kind(models.TextChoices):
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        CHARGE = "charge", "Charge"
        POSSIBLE_CHARGE = "possible_charge", "Possible charge"
        ADJUSTMENT = "adjustment", "Adjustment"

    # The sums every spend figure is made of: spent, held by unfinished jobs, maybe billed.
    BUCKETS = {
        "charged": (Kind.CHARGE, Kind.ADJUSTMENT),
        "reserved": (Kind.RESERVATION, Kind.RELEASE),
        "possible": (Kind.POSSIBLE_CHARGE,),
    }

    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="ledger"
    )
    generation = models.ForeignKey(
        "generations.Generation",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="ledger_entries",
        db_index=False,  # ledger_job_period below leads with it
    )
    attempt = models.ForeignKey(
        "generations.Attempt",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="ledger_entries",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # USD, signed
    # Its job's reservation's month, so a job running over the month's end settles in it.
    period = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A month's entries as the dashboard sums them, from the index alone on PostgreSQL.
            models.Index(
                fields=["project", "period"],
                include=["generation", "kind", "amount", "created_at"],
                name="ledger_month_sums",
            ),
            # A job's entries: its settling, months and spend (from the index on PostgreSQL).
            models.Index(
                fields=["generation", "period"],
                include=["project", "kind", "amount"],
                name="ledger_job_period",
            ),
            # The dashboard's page of the ledger, newest first, without sorting all of it.
            models.Index(fields=["project", "-created_at", "-id"], name="ledger_newest"),
            # The possible charges still to settle, on every dashboard: a few among many.
            models.Index(
                fields=["project", "attempt"],
                condition=models.Q(kind="possible_charge"),
                name="ledger_possible_charges",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} USD ({self.reason})"

    def save(self, *args, **kwargs):
        # A guard, not logic: history is corrected by new entries, never by edits.
        if not self._state.adding:
            raise TypeError("Ledger entries are never changed: record an adjustment instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are never deleted: record an adjustment instead")


def default_draft_models() -> list[str]:
    return ["ltx-2-fast"]


def default_draft_resolutions() -> list[str]:
    return ["1920x1080"]


class SpendPolicy(models.Model):
    """When enabled, a job from a prompt version that is not its prompt's approved one (or
    from no prompt) may use only the draft models and resolutions."""

    project = models.OneToOneField(
        "generations.Project", on_delete=models.CASCADE, related_name="spend_policy"
    )
    enabled = models.BooleanField(default=False)
    draft_models = models.JSONField(default=default_draft_models, blank=True)
    draft_resolutions = models.JSONField(default=default_draft_resolutions, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "spend policies"

    def __str__(self):
        if not self.enabled:
            return f"no spend policy for {self.project}"
        return (
            f"{self.project}: without an approved version only "
            f"{', '.join(self.draft_models)} at {', '.join(self.draft_resolutions)}"
        )


class BudgetAlert(models.Model):
    """A threshold of its budget a project's spend passed in one period (a month, or the
    project's life): producers are told once per threshold and period."""

    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="budget_alerts"
    )
    period = models.DateField(null=True, blank=True)  # first day of the month; empty: all time
    percent = models.PositiveSmallIntegerField()
    committed = models.DecimalField(max_digits=14, decimal_places=2)  # spent or held, then
    limit = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period", "percent"],
                condition=models.Q(period__isnull=False),
                name="one_alert_per_threshold_and_month",
            ),
            models.UniqueConstraint(
                fields=["project", "percent"],
                condition=models.Q(period__isnull=True),
                name="one_alert_per_threshold_in_all",
            ),
        ]

    def __str__(self):
        when = self.period.strftime("%B %Y") if self.period else "all time"
        return f"{self.project}: {self.percent} % of the budget ({when})"


class PriceRow(models.Model):
    """An operator's price for one endpoint, model and size from a date on. It overrides the
    capabilities profile's figure from that date, and confirms a price LTX has not published,
    so requests at it may reach the real API. Older jobs keep the price of their own day."""

    endpoint = models.CharField(max_length=20, choices=[(e, e) for e in ALL_ENDPOINTS])
    model = models.CharField(max_length=40)
    resolution = models.CharField(
        max_length=12,
        help_text="WIDTHxHEIGHT; retake and extend are priced at 1920x1080 whatever their size",
    )
    usd_per_second = models.DecimalField(
        "USD per second", max_digits=8, decimal_places=4, validators=[MinValueValidator(0)]
    )
    effective = models.DateField(default=timezone.localdate, help_text="from this day on")
    note = models.CharField(max_length=200, blank=True, help_text="where the figure comes from")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective", "endpoint", "model", "resolution"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "model", "resolution", "effective"], name="one_price_a_day"
            )
        ]

    def __str__(self):
        return f"{self.endpoint} {self.model} {self.resolution} from {self.effective}"

    def clean(self):
        # Only what the profile in force offers can be priced: a typo would price nothing.
        offered = {(e, m, r) for e, m, r in capabilities.active().offers()}
        if self.endpoint in ON_A_VIDEO:
            offered = {(e, m, "1920x1080") for e, m, _ in offered if e == self.endpoint}
        if (self.endpoint, self.model, self.resolution) not in offered:
            raise ValidationError(
                f"The API as described ({capabilities.active().name}) does not offer "
                f"{self.endpoint} with {self.model} at {self.resolution}"
            )

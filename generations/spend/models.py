from django.conf import settings
from django.db import models
from django.utils import timezone


def default_alert_percents() -> list[int]:
    return [80, 100]


class Budget(models.Model):
    """A project's spending limit (USD), for its whole life or per calendar month.

    Without a row, or with no amount, the project spends without a limit (still recorded)."""

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
    """The running total of a project's ledger in one period: a calendar month, or the
    project's whole life (no period). It exists so a budget can hold under simultaneous
    submissions: a reservation is one conditional UPDATE of this row. Figures shown to people
    are always summed from the ledger; this total moves with it in the same transaction.
    Whole cents, so that the comparison is exact on every database."""

    project = models.ForeignKey(
        "generations.Project", on_delete=models.CASCADE, related_name="spend_periods"
    )
    period = models.DateField(null=True, blank=True)  # first day of the month; empty: all time
    limit_cents = models.BigIntegerField(null=True, blank=True)
    committed_cents = models.BigIntegerField(default=0)
    # What was recorded without the budget's consent (a charge above its estimate, a possible
    # charge, a budget lowered below what was already committed): the backstop constraint
    # allows that much above the limit and no more.
    overrun_cents = models.BigIntegerField(default=0)
    # How many ledger entries the period has, moved in their transaction. The lifetime
    # row's count is the ledger's version, which the dashboard's figures are cached under
    # (spend/dashboard.py): entries are only ever added, so it changes with every one
    # committed, whatever order their transactions commit in.
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


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are never changed: record an adjustment instead")

    def delete(self):
        raise TypeError("Ledger entries are never deleted: record an adjustment instead")


class LedgerEntry(models.Model):
    """One movement of money: reservation, release, charge, possible charge or adjustment.
    Only ever added (spend/services.py); every spend figure is a sum of these.

    Signs: a reservation holds +estimate and its release gives it back (negative); a possible
    charge is +amount when recorded and -amount when a producer settles it; charges and
    adjustments are what was spent."""

    class Kind(models.TextChoices):
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        CHARGE = "charge", "Charge"
        POSSIBLE_CHARGE = "possible_charge", "Possible charge"
        ADJUSTMENT = "adjustment", "Adjustment"

    # The three sums every spend figure is made of, by the kinds each adds up.
    BUCKETS = {
        # what was spent for certain: charges and corrections
        "charged": (Kind.CHARGE, Kind.ADJUSTMENT),
        # estimates held by jobs not yet finished (or awaiting approval)
        "reserved": (Kind.RESERVATION, Kind.RELEASE),
        # attempts whose answer was lost: maybe billed, until a producer settles them
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
    # The calendar month it counts in: its job's reservation's, so a job that runs over
    # midnight at the month's end is settled in the month it was admitted to.
    period = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A month's entries as the dashboard sums them (spend/dashboard.py), read from
            # the index alone on PostgreSQL.
            models.Index(
                fields=["project", "period"],
                include=["generation", "kind", "amount", "created_at"],
                name="ledger_month_sums",
            ),
            # A job's entries: its settling, its first month, whether it has any in a month
            # (the approved videos of that month) and what it spent (on a rejected video),
            # the last three from the index alone on PostgreSQL.
            models.Index(
                fields=["generation", "period"],
                include=["project", "kind", "amount"],
                name="ledger_job_period",
            ),
            # The dashboard's page of the ledger, newest first, without sorting all of it.
            models.Index(fields=["project", "-created_at", "-id"], name="ledger_newest"),
            # The possible charges still to settle, on every dashboard: a few dozen rows
            # among the project's whole ledger (scanning it took 3-4 ms of each page).
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
    """Which settings a job may use without an approved prompt version, set by producers.

    When enabled, a job from a version that is not its prompt's approved version (or from no
    prompt at all) may use only the draft models and resolutions; anything else needs the
    approved version."""

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

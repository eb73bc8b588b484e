"""Make the dashboard's per-job sums (JobSpend), their sums per breakdown row (SpendGroup)
and the chart's sums per quarter of an hour (SpendQuarter) again from the ledger: they are
derived, and this settles any doubt about them. Safe while jobs run: it holds the spend
rows' locks."""

from django.core.management.base import BaseCommand

from generations.spend import services as spend


class Command(BaseCommand):
    help = "Recompute every JobSpend, SpendGroup and SpendQuarter row from the ledger."

    def handle(self, *args, **options):
        rows = spend.job_spend_rebuild()
        self.stdout.write(f"{rows} rows made again from the ledger")

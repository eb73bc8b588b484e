# The dashboard sums the ledger in SQL now (spend/dashboard.py), by month and by job, with
# the indexes that needs. The tables that kept its sums per job, per breakdown row and per
# quarter of an hour go, with the count of review decisions that moved them: they were
# derived from the ledger, so nothing is lost (undoing this makes them again, empty).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0020_spend_period_decisions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["project", "period"],
                include=("generation", "kind", "amount", "created_at"),
                name="ledger_month_sums",
            ),
        ),
        migrations.RemoveIndex(
            model_name="ledgerentry",
            name="ledger_project_period",
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["generation", "period"],
                include=("project", "kind", "amount"),
                name="ledger_job_period",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="generation",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="ledger_entries",
                to="generations.generation",
            ),
        ),
        migrations.DeleteModel(name="JobSpend"),
        migrations.DeleteModel(name="SpendGroup"),
        migrations.DeleteModel(name="SpendQuarter"),
        migrations.RemoveField(model_name="spendperiod", name="decisions"),
    ]

# The dashboard sums the ledger in SQL now (spend/dashboard.py): the tables that kept its
# sums per job, per breakdown row and per quarter of an hour go, with the count of review
# decisions that moved them. They were derived from the ledger, so nothing is lost; undoing
# this makes them again, empty.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('generations', '0020_spend_period_decisions'),
    ]

    operations = [
        migrations.DeleteModel(name='JobSpend'),
        migrations.DeleteModel(name='SpendGroup'),
        migrations.DeleteModel(name='SpendQuarter'),
        migrations.RemoveField(model_name='spendperiod', name='decisions'),
    ]

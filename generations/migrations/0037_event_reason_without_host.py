"""The job history people read no longer names the worker's host and process: a claim says
"picked up by a worker" (the attempt keeps which worker, for operators)."""

from django.db import migrations


def forget_hosts(apps, schema_editor):
    GenerationEvent = apps.get_model("generations", "GenerationEvent")
    GenerationEvent.objects.filter(reason__startswith="claimed by ").update(
        reason="picked up by a worker"
    )


class Migration(migrations.Migration):
    dependencies = [("generations", "0036_activity_generation")]

    operations = [migrations.RunPython(forget_hosts, migrations.RunPython.noop, elidable=True)]

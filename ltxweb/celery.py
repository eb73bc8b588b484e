import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ltxweb.settings")

app = Celery("ltxweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in their domain packages: generations.jobs.tasks, generations.sequences.tasks.
app.autodiscover_tasks(["generations.jobs", "generations.sequences"])

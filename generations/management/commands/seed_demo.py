from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from generations.projects.models import Project
from generations.projects.services import project_create

DEMO_USERNAME = "demo"
# Printed by `make run` for trying the app on one's own machine; refused outside embedded mode.
DEMO_PASSWORD = "ltx-demo-password"  # noqa: S105
DEMO_PROJECT = "Demo project"


class Command(BaseCommand):
    help = "Create the demo account and demo project (embedded mode only), and print them."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow outside embedded mode")

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.EMBEDDED and not options["force"]:
            raise CommandError("seed_demo creates a known password: use it on a local machine")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        project = Project.objects.filter(memberships__user=user, name=DEMO_PROJECT).first()
        if project is None:
            project = project_create(name=DEMO_PROJECT, owner=user)
        self.stdout.write(
            f"Demo account: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}"
            + ("" if created else " (unless you changed it)")
        )
        self.stdout.write(f"Demo project: {project.name}")
        if settings.LTX_USES_SIMULATOR:
            self.stdout.write(f"LTX-2 API simulator key: {settings.LTXV_API_KEY}")

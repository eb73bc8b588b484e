from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from generations.ltx import capabilities, pricing
from generations.management.demo import demo_build, demo_wanted
from generations.projects.models import Project
from generations.projects.services import project_create
from generations.spend.models import PriceRow

DEMO_USERNAME = "demo"
# Printed by `make run` for trying the app on one's own machine; refused outside embedded mode.
DEMO_PASSWORD = "ltx-demo-password"  # noqa: S105
DEMO_PROJECT = "Demo project"


class Command(BaseCommand):
    help = (
        "Create the demo account and a demo project with takes, reviews and a sequence "
        "(embedded mode only), and print them. Running it again creates nothing twice."
    )

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
        # The prices first: the demo's takes are estimated and charged with them.
        if settings.LTX_USES_SIMULATOR:
            self._enter_simulator_prices()
        project = Project.objects.filter(memberships__user=user, name=DEMO_PROJECT).first()
        if project is None:
            project = project_create(name=DEMO_PROJECT, owner=user)
        if demo_wanted(project=project):
            demo_build(
                project=project,
                owner=user,
                simulator_dir=settings.VAR_DIR / "ltxsim-demo",
                api_key=settings.LTXV_API_KEY,
            )
            self.stdout.write("Demo content: a sequence of three shots, their takes and reviews")
        self.stdout.write(
            f"Demo account: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}"
            + ("" if created else " (unless you changed it)")
        )
        self.stdout.write(f"Demo project: {project.name}")
        if settings.LTX_USES_SIMULATOR:
            self.stdout.write(f"LTX-2 API simulator key: {settings.LTXV_API_KEY}")

    def _enter_simulator_prices(self):
        """The simulator charges the profile's figures, unpublished ones included: entered as
        the price list, so the demo's estimates are the simulator's bills from the first click."""
        prices = pricing.price_list(capabilities.active())
        entered = 0
        for endpoint, model, resolution in sorted(prices.unconfirmed):
            _, created = PriceRow.objects.get_or_create(
                endpoint=endpoint,
                model=model,
                resolution=resolution,
                effective=prices.effective,
                defaults={
                    "usd_per_second": prices.per_second[(endpoint, model, resolution)],
                    "note": "the simulator's price list (seed_demo)",
                },
            )
            entered += created
        if entered:
            self.stdout.write(f"Prices: the simulator's {entered} unpublished prices entered")

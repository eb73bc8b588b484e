"""Give the stored videos that have no hover preview one: run once on a deployment that
stored videos before the gallery's sprite strips, or after a sprite could not be made."""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from generations.jobs import store as job_store


class Command(BaseCommand):
    help = "Make the gallery's hover-preview strip for each stored video that has none."

    def handle(self, *args, **options):
        made, failed = job_store.sprites_backfill()
        self.stdout.write(f"{made} video{pluralize(made)} given a hover preview")
        if failed:
            self.stderr.write(
                f"{failed} video{pluralize(failed)} could not be given one (see the log)"
            )

"""Make every stored video's checksum and size (API, deliverables' manifest) its stored
file's: run once on a deployment that stored videos with an earlier version, when they were
the delivery's, taken before its provenance was tagged in."""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from generations.jobs import store as job_store


class Command(BaseCommand):
    help = "Recompute each stored video's SHA-256 and size from the stored file."

    def handle(self, *args, **options):
        changed, missing = job_store.video_checksums_refresh()
        self.stdout.write(f"{changed} video{pluralize(changed)} given their file's checksum")
        if missing:
            self.stderr.write(f"{missing} video{pluralize(missing)} missing from the storage")

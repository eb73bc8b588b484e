import contextlib
import logging

from django.core.management.base import BaseCommand

from generations.simulator import server, state


class Command(BaseCommand):
    help = "Serve a local simulator of the LTX-2 API (see the README's Simulator section)."

    def add_arguments(self, parser):
        state.add_arguments(parser)

    def handle(self, *args, **options):
        logging.getLogger("ltxsim").setLevel(logging.INFO)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve(state.config_from_options(options))

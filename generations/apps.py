from django.apps import AppConfig

from generations.core.ltx import ltx_capabilities_setting
from generations.ltx import capabilities


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "ltxweb"

    def ready(self):
        # The LTX package knows no settings: it asks this where its profile comes from.
        capabilities.choose(ltx_capabilities_setting)

"""The admin, registered by each domain's own module; Django's autodiscovery imports this one."""

from generations.core import admin as core_admin  # noqa: F401
from generations.jobs import admin as jobs_admin  # noqa: F401
from generations.projects import admin as projects_admin  # noqa: F401
from generations.prompts import admin as prompts_admin  # noqa: F401
from generations.review import admin as review_admin  # noqa: F401
from generations.sequences import admin as sequences_admin  # noqa: F401
from generations.spend import admin as spend_admin  # noqa: F401

"""The app's models, defined in their domains' packages and gathered here, where Django
looks for them. The app label and the tables stay `generations`."""

from generations.core.models import Activity  # noqa: F401
from generations.jobs.models import (  # noqa: F401
    ApiLease,
    Attempt,
    Generation,
    GenerationEvent,
    MediaAsset,
)
from generations.projects.models import (  # noqa: F401
    ApiAccount,
    ApiToken,
    Invitation,
    Membership,
    Project,
)
from generations.prompts.models import LibraryEntry, Prompt, PromptComment, PromptVersion  # noqa: F401
from generations.review.models import (  # noqa: F401
    Notification,
    NotificationSetting,
    ReviewDecision,
    ShareLink,
    Stack,
    TimelineComment,
    Version,
)
from generations.sequences.models import RoughCut, Sequence, Shot  # noqa: F401
from generations.spend.models import (  # noqa: F401
    Budget,
    BudgetAlert,
    LedgerEntry,
    PriceRow,
    SpendPeriod,
    SpendPolicy,
)

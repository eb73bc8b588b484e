"""The app's models, defined in their domains' packages and gathered here, where Django
looks for them. The app label and the tables stay `generations`."""

from generations.core.models import (  # noqa: F401
    Activity,
)
from generations.jobs.models import (  # noqa: F401
    ACTIVE_STATES,
    ApiLease,
    Attempt,
    Endpoint,
    Generation,
    GenerationEvent,
    JobState,
    MediaAsset,
    asset_path,
    poster_path,
    video_path,
)
from generations.projects.models import (  # noqa: F401
    ApiAccount,
    ApiToken,
    Invitation,
    Membership,
    Project,
    Role,
)
from generations.prompts.models import (  # noqa: F401
    ELEMENT_FIELDS,
    LibraryEntry,
    Prompt,
    PromptComment,
    PromptVersion,
)
from generations.review.models import (  # noqa: F401
    AppendOnlyQuerySet,
    Notification,
    NotificationSetting,
    ReviewDecision,
    ReviewState,
    ShareLink,
    Stack,
    TimelineComment,
    Version,
)
from generations.spend.models import (  # noqa: F401
    Budget,
    BudgetAlert,
    LedgerEntry,
    LedgerQuerySet,
    SpendPeriod,
    SpendPolicy,
    default_alert_percents,
    default_draft_models,
    default_draft_resolutions,
)

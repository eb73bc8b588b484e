"""A project's own LTX API key: Fernet ciphertext made with LTX_KEY_ENCRYPTION_KEYS (not
SECRET_KEY), never shown again, never logged; its last four characters tell which key is set.
"""

import hashlib
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone

from generations.core.activity import activity_record
from generations.projects.models import ApiAccount, Project

# What API keys look like: printable, no spaces (they go into an Authorization header).
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{16,256}")
MAX_CONCURRENCY = 500


def _fernet() -> MultiFernet:
    keys = settings.LTX_KEY_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured(
            "LTX_KEY_ENCRYPTION_KEYS is not set, so project API keys cannot be stored"
        )
    return MultiFernet([Fernet(key) for key in keys])


def can_store_keys() -> bool:
    return bool(settings.LTX_KEY_ENCRYPTION_KEYS)


def project_api_key_set(*, project: Project, user, api_key: str, concurrency_limit: int) -> None:
    api_key = (api_key or "").strip()
    if not _KEY_SHAPE.fullmatch(api_key):
        raise ValidationError(
            {"api_key": "Paste the whole API key: 16 to 256 characters, with no spaces"}
        )
    if not 1 <= concurrency_limit <= MAX_CONCURRENCY:
        message = f"Give the number of generations your plan runs at once (1 to {MAX_CONCURRENCY})"
        raise ValidationError({"concurrency_limit": message})
    if not can_store_keys():
        raise ValidationError(
            "This installation has no LTX_KEY_ENCRYPTION_KEYS, so it cannot store API keys; "
            "ask its administrator to set it"
        )
    with transaction.atomic():
        _key_store(
            project,
            user,
            f"set the project's LTX API key (ending {api_key[-4:]})",
            ltx_api_key_encrypted=_fernet().encrypt(api_key.encode()).decode(),
            ltx_api_key_last4=api_key[-4:],
            ltx_api_key_set_at=timezone.now(),
            ltx_account=account_for_key(api_key, concurrency_limit=concurrency_limit),
        )


def project_api_key_remove(*, project: Project, user) -> None:
    summary = "removed the project's LTX API key: jobs use the installation's key"
    _key_store(
        project,
        user,
        summary,
        ltx_api_key_encrypted="",
        ltx_api_key_last4="",
        ltx_api_key_set_at=None,
        ltx_account=None,
    )


@transaction.atomic
def _key_store(project: Project, user, summary: str, **fields) -> None:
    Project.objects.filter(pk=project.pk).update(**fields)
    activity_record(project=project, actor=user, verb="api_key", summary=summary)
    project.refresh_from_db()


def project_api_key(project: Project) -> str | None:
    """The project's own key in clear, for the one request that needs it; None if unset."""
    if not project.ltx_api_key_encrypted:
        return None
    try:
        return _fernet().decrypt(project.ltx_api_key_encrypted.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            f"project {project.uuid}'s API key cannot be decrypted with LTX_KEY_ENCRYPTION_KEYS "
            "(was the key it was stored with removed before `rotate_ltx_keys` ran?)"
        ) from None


def api_keys_rotate() -> int:
    """Re-encrypt every stored key with the first of LTX_KEY_ENCRYPTION_KEYS."""
    fernet = _fernet()
    rotated = 0
    for project in Project.objects.exclude(ltx_api_key_encrypted="").only(
        "pk", "ltx_api_key_encrypted"
    ):
        token = fernet.rotate(project.ltx_api_key_encrypted.encode()).decode()
        Project.objects.filter(pk=project.pk).update(ltx_api_key_encrypted=token)
        rotated += 1
    return rotated


def account_for_key(api_key: str, *, concurrency_limit: int | None = None) -> ApiAccount:
    """The account of an API key, with its cap: `concurrency_limit` when given (a project's
    own key, as its owner set it), else LTX_CONCURRENCY_LIMIT for the installation's key."""
    fingerprint = hashlib.sha256(api_key.encode()).hexdigest()
    if concurrency_limit is None and api_key != settings.LTXV_API_KEY:
        account = ApiAccount.objects.filter(fingerprint=fingerprint).first()
        if account is not None:
            return account
    limit = concurrency_limit or settings.LTX_CONCURRENCY_LIMIT
    account, _ = ApiAccount.objects.get_or_create(
        fingerprint=fingerprint, defaults={"concurrency_limit": limit}
    )
    if account.concurrency_limit != limit:
        ApiAccount.objects.filter(pk=account.pk).update(concurrency_limit=limit)
        account.concurrency_limit = limit
    return account

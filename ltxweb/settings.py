"""ltxweb's settings, from environment variables. With none it boots embedded, needing no
server (SQLite, files under var/, the LTX-2 simulator); values it cannot read are refused."""

import base64
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from generations.ltx import capabilities as ltx_capabilities

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name).lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_seconds(name: str, default: float) -> float:
    value = env_str(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {value!r}")
    return seconds


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str = "", schemes=("http", "https")) -> str:
    value = env_str(name, default)
    if value and urlsplit(value).scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must be a {' or '.join(schemes)} URL, not {value!r}")
    return value.rstrip("/")


VAR_DIR = Path(env_str("LTXWEB_VAR_DIR") or BASE_DIR / "var")
DATABASE_URL = env_str("DATABASE_URL")
# Embedded mode: no database server given, so this is a developer's or a trial machine.
EMBEDDED = not DATABASE_URL

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set")
    # A key of this machine's own, kept beside the SQLite database, so sessions survive
    # restarts without anyone having to invent one.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()
elif len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if EMBEDDED else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where people reach the app, for links in emails sent without a request (notifications from
# workers): the first allowed host over https unless given.
SITE_URL = env_url("SITE_URL") or (
    "http://127.0.0.1:8000"
    if EMBEDDED
    else next((f"https://{h.lstrip('.')}" for h in ALLOWED_HOSTS if h != "*"), "")
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "generations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-csp's, sending no policy with a 304 (ltxweb/middleware.py).
    "ltxweb.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Stops an upload at its size limit while it streams in (generations/uploads.py); before
    # the CSRF check, which reads the body.
    "generations.jobs.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refuses text with a NUL character once the CSRF check has passed (a view hook).
    "generations.core.middleware.RefuseNulMiddleware",
    "generations.core.middleware.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "generations.core.errors.OutageMiddleware",  # the database or cache down: 503, not 500
]

ROOT_URLCONF = "ltxweb.urls"
WSGI_APPLICATION = "ltxweb.wsgi.application"

# The domain packages inside generations/ (docs/architecture.md).
DOMAIN_ROOMS = ("core", "projects", "prompts", "jobs", "review", "spend", "sequences", "api")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The site's frame (base, sign-in, errors), then each domain room's own folder.
        "DIRS": [
            BASE_DIR / "templates",
            *(BASE_DIR / "generations" / room / "templates" for room in DOMAIN_ROOMS),
        ],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "generations.core.theme.theme",
            ],
            # {% partialdef %} everywhere without {% load %}, as it will be in Django 6.
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or VAR_DIR / "ltxweb.sqlite3",
            # A file, not memory: tests start real worker processes that share it.
            # One per test run, so that two runs on one machine never share it.
            "TEST": {"NAME": str(VAR_DIR / f"test-ltxweb-{os.getpid()}.sqlite3")},
            # Web and worker share the file: wait for locks. WAL lets readers and the writer
            # not block each other, and a commit not wait on fsync behind a stored video's
            # pages (bench/large_video_bench.py); a power cut loses the last commits, whole.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    }
    # The ledger's covering indexes (INCLUDE columns) serve PostgreSQL; SQLite builds them
    # on their key columns alone, which is all the embedded database needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
# Serve files straight from the apps' static folders when nothing was collected (dev, tests).
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG
if EMBEDDED:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Storage: local files by default; S3 or any S3-compatible store (MinIO) when a bucket is set.
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    from boto3.s3.transfer import TransferConfig

    # boto3 holds each part of a multipart upload from a file object in memory: three parts
    # of S3's smallest size keep a worker storing a large video small (bench/RESULTS.md).
    s3_transfer = TransferConfig(multipart_chunksize=5 * 1024**2, max_concurrency=3)
    s3_transfer.max_in_memory_upload_chunks = 3  # s3transfer's setting, not an argument here

    default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_url("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("S3_URL_EXPIRE_SECONDS", 300),
            "file_overwrite": False,
            "transfer_config": s3_transfer,
            # A video read back (a store tried again, the deliverables) goes to a temporary
            # file past this, not into the worker's memory: S3Storage keeps it all by default.
            "max_memory_size": 5 * 1024**2,
        },
    }
else:
    default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or EMBEDDED
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Celery: Redis in production; with no Redis, a broker kept in a SQLite file of its own
# (kombu's SQLAlchemy transport) so that a real, separate worker process still runs the jobs.
# A message is a row written in one transaction, so a reader never sees half of one (kombu's
# file transport could, and its worker died of it); the README says what it lacks.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
    # Passed to SQLAlchemy's create_engine: a writer waits up to 30 s for the file's lock
    # (the web server and every worker thread share it) rather than fail at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
# The worker outlives a broker that goes away: it reconnects for as long as it takes, at
# start as later, instead of giving up after a hundred tries (Celery's default).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the connection drops keeps running: it is a paid call, and its job's
# row, not its message, says whether it was sent (Celery 6 will cancel such tasks).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_IGNORE_RESULT = True
# Workers consume, and tasks (including a job's own retries) are sent to, this queue.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Acknowledged after the task, so a worker dying mid-job leaves its message to be redelivered:
# harmless, as the task claims its job with a conditional update. The visibility timeout is
# well above the longest generation so a healthy job is not handed to a second worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "generations-sweep": {"task": "generations.tasks.generations_sweep", "schedule": 60.0},
}

# The cache is shared by every process, so that sign-in rate limits count across web workers:
# Redis in production, files under var/ otherwise.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Its own database: clearing the cache must never touch Celery's queue.
            "LOCATION": env_url("REDIS_CACHE_URL", schemes=("redis", "rediss"))
            or REDIS_URL.rsplit("/", 1)[0] + "/1",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }
# Polling cards read the session several times a second: with Redis, from the cache (written
# through to the database). Not the file cache: each host's own would keep signed-out sessions.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# Email (invitations, password resets): printed on the console unless a backend is configured.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ltxweb <noreply@localhost>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# How many reverse proxies in front of the app append to X-Forwarded-For. 0 trusts none of
# it (REMOTE_ADDR is the client); 1 takes the address the nearest proxy saw, and so on.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# The LTX-2 API: the local simulator unless a real base URL and key are given.
LTXSIM_PORT = env_int("LTXSIM_PORT", 8001)
LTX_API_BASE_URL = env_url("LTX_API_BASE_URL")
LTXV_API_KEY = env_str("LTXV_API_KEY")
if LTX_API_BASE_URL and not LTXV_API_KEY:
    raise ImproperlyConfigured("LTXV_API_KEY must be set when LTX_API_BASE_URL is set")
LTX_USES_SIMULATOR = not LTX_API_BASE_URL
if LTX_USES_SIMULATOR:
    from generations.simulator import DEMO_API_KEY

    LTX_API_BASE_URL = f"http://127.0.0.1:{LTXSIM_PORT}"
    LTXV_API_KEY = LTXV_API_KEY or DEMO_API_KEY
LTX_READ_TIMEOUT_SECONDS = env_int("LTX_READ_TIMEOUT_SECONDS", 900)
# `sync` (the default): one /v1 request answered with the video. `async`: /v2 jobs, their id
# saved before anything else and polled, so a worker that dies loses nothing (the README says
# when to choose it; the async API is in Beta).
LTX_API_MODE = env_str("LTX_API_MODE", "sync")
if LTX_API_MODE not in ("sync", "async"):
    raise ImproperlyConfigured(f"LTX_API_MODE must be sync or async, not {LTX_API_MODE!r}")
# How often an async job is polled, as the docs advise (failed polls back off from it).
LTX_POLL_SECONDS = env_seconds("LTX_POLL_SECONDS", 5.0)
# What the LTX-2 API accepts and costs: `contract` (the original docs, the default), `current`
# (what it has gained since: API-CHANGES.md) or the path of an operator's own TOML file (a
# copy of generations/ltx/profiles/*.toml). Checked here, so a bad one stops the start.
LTX_CAPABILITIES = env_str("LTX_CAPABILITIES", "contract")
try:
    ltx_capabilities.load(LTX_CAPABILITIES)
except ltx_capabilities.CapabilitiesError as _exc:
    raise ImproperlyConfigured(str(_exc)) from None
# A worker running a job beats this often (jobs/heartbeat.py): each beat extends its lease
# and stamps the job. Often enough that two missed beats still leave time before the lease
# runs out; rare enough to be one small UPDATE per job every so often.
LTX_HEARTBEAT_SECONDS = env_int("LTX_HEARTBEAT_SECONDS", 20)
# A lease lasts this long past its last beat: three beats, so a beat lost to a slow database
# does not give a live worker's slot away, and a dead worker's slot is free within a minute.
LTX_LEASE_TTL_SECONDS = env_int("LTX_LEASE_TTL_SECONDS", 60)
# The sweep (every 60 s) ends an in-flight job whose worker has not beaten for this long:
# four missed beats, longer than the lease, as ending a live request loses a paid video.
# Stale after 90 s and found by the next sweep: ended at most 150 s after its worker died.
LTX_HEARTBEAT_STALE_SECONDS = env_int("LTX_HEARTBEAT_STALE_SECONDS", 90)
if min(LTX_LEASE_TTL_SECONDS, LTX_HEARTBEAT_STALE_SECONDS) < 2 * LTX_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "LTX_LEASE_TTL_SECONDS and LTX_HEARTBEAT_STALE_SECONDS must each be at least two "
        "LTX_HEARTBEAT_SECONDS, or a live worker loses its slot or its job between two beats"
    )
# Generations in flight at once for the API key, across every worker and host (the
# account's plan); jobs over it wait in the queue without holding a worker.
LTX_CONCURRENCY_LIMIT = env_int("LTX_CONCURRENCY_LIMIT", 8)
# Back-off before retrying a 500/503/504 or a failed connection: base * 2^(attempt-1) s.
LTX_RETRY_BASE_SECONDS = float(env_str("LTX_RETRY_BASE_SECONDS", "2"))

# Fernet keys for the projects' API keys, newest first (rotate_ltx_keys re-encrypts with the
# first); their own, so rotating SECRET_KEY loses no project's key, nor this signs anyone out.
LTX_KEY_ENCRYPTION_KEYS = env_list("LTX_KEY_ENCRYPTION_KEYS", [])
for _fernet_key in LTX_KEY_ENCRYPTION_KEYS:
    try:
        if len(base64.urlsafe_b64decode(_fernet_key.encode())) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "LTX_KEY_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes), separated "
            "by commas; make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None
if not LTX_KEY_ENCRYPTION_KEYS and EMBEDDED:
    # Like the secret key: one of this machine's own, kept beside the SQLite database.
    _fernet_file = VAR_DIR / "ltx_key_encryption_key"
    if not _fernet_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _fernet_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        _fernet_file.chmod(0o600)
    LTX_KEY_ENCRYPTION_KEYS = [_fernet_file.read_text().strip()]

# Production hardening (anything not embedded is taken to be served over https).
if not EMBEDDED and not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# CSP: scripts and styles only from our own files (no inline ones; htmx told not to eval), so
# injected markup runs nothing. S3's videos and posters come by a presigned URL's redirect.
if S3_BUCKET and env_str("S3_ENDPOINT_URL"):
    _endpoint = urlsplit(env_url("S3_ENDPOINT_URL"))
    MEDIA_ORIGINS = [f"{_endpoint.scheme}://{_endpoint.netloc}"]
elif S3_BUCKET:
    _region = env_str("S3_REGION")
    MEDIA_ORIGINS = [f"https://{S3_BUCKET}.s3.amazonaws.com"] + (
        [f"https://{S3_BUCKET}.s3.{_region}.amazonaws.com"] if _region else []
    )
else:
    MEDIA_ORIGINS = []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        # blob: for the generate form's Audio element, which reads a chosen file's length
        # (made by the page's own script from the person's own file).
        "media-src": ["'self'", "blob:", *MEDIA_ORIGINS],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors": {"()": "ltxweb.logfilters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

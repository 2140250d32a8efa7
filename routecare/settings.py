"""RouteCare settings, read from the environment.

Secrets come from an environment variable or from a file named by ``<NAME>_FILE``. For local
development a secrets file is generated under ``.local/`` (git ignores it) so ``make run`` works
on a fresh machine without any configuration.
"""

from __future__ import annotations

import json
import os
import secrets
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("ROUTECARE_LOCAL_DIR", BASE_DIR / ".local"))


def envbool(name: str, default: str) -> bool:
    return os.environ.get(name, default).lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.environ.get(name, default))


def envsecret(name: str) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return None


def _redis_password(url: str) -> str:
    """The password of a Redis URL: ``redis://[user]:password@host`` or ``?password=``."""
    parts = urlsplit(url)
    return parts.password or parse_qs(parts.query).get("password", [""])[0]


def _local_dev_secrets() -> dict[str, str]:
    """Secrets for a development machine, generated once and kept out of git."""
    path = LOCAL_DIR / "dev-secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    wanted: dict[str, Callable[[], str]] = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "ROUTECARE_FIELD_KEYS": lambda: "k1:" + b64encode(secrets.token_bytes(32)).decode(),
        "ROUTECARE_LOOKUP_KEY": lambda: secrets.token_urlsafe(32),
    }
    missing = {name: make() for name, make in wanted.items() if name not in stored}
    if not missing:
        return stored
    # A file of an earlier version lacks the newer secrets: they are added, the others kept.
    generated = stored | missing
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(generated, indent=2), encoding="utf-8")
    partial.replace(path)
    # Two processes starting at once: both read what the last one wrote.
    kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return kept


DEBUG = envbool("DEBUG", "false")
PRODUCTION = envbool("ROUTECARE_PRODUCTION", "false")

_secret_key = envsecret("SECRET_KEY")
_field_keys = envsecret("ROUTECARE_FIELD_KEYS")
if PRODUCTION and not (_secret_key and _field_keys):
    raise RuntimeError(
        "ROUTECARE_PRODUCTION needs SECRET_KEY and ROUTECARE_FIELD_KEYS (or *_FILE)."
    )
if not (_secret_key and _field_keys):
    _dev = _local_dev_secrets()
    _secret_key = _secret_key or _dev["SECRET_KEY"]
    _field_keys = _field_keys or _dev["ROUTECARE_FIELD_KEYS"]

SECRET_KEY = _secret_key
# The key of the keyed digests that find a messaging contact again (HMAC-SHA256 of their
# WhatsApp number or Telegram id): a secret of its own, so that rotating SECRET_KEY does not
# lose every conversation. Without it no messaging channel starts.
ROUTECARE_LOOKUP_KEY = envsecret("ROUTECARE_LOOKUP_KEY") or (
    "" if PRODUCTION else _local_dev_secrets()["ROUTECARE_LOOKUP_KEY"]
)
# Each messaging channel's secrets by slug (routecare/messaging/channels.py, docs/messaging.md).
ROUTECARE_MESSAGING_SECRETS = json.loads(envsecret("ROUTECARE_MESSAGING_SECRETS") or "{}")
# Where the platforms' APIs are (the tests' loopback fakes replace them).
ROUTECARE_WHATSAPP_API = os.environ.get(
    "ROUTECARE_WHATSAPP_API", "https://graph.facebook.com/v21.0"
)
ROUTECARE_TELEGRAM_API = os.environ.get("ROUTECARE_TELEGRAM_API", "https://api.telegram.org")
# The approved WhatsApp template sent when staff answer after the 24-hour window ("we have an
# answer for you, reply to read it"); registered with Meta per language (docs/messaging.md).
ROUTECARE_WHATSAPP_ANSWER_TEMPLATE = os.environ.get(
    "ROUTECARE_WHATSAPP_ANSWER_TEMPLATE", "routecare_answer_waiting"
)
# The template subscribers' updates go as after the window, its one variable the update's text.
ROUTECARE_WHATSAPP_UPDATE_TEMPLATE = os.environ.get(
    "ROUTECARE_WHATSAPP_UPDATE_TEMPLATE", "routecare_update"
)
# "kid:base64key,kid:base64key": the first key encrypts, every listed key decrypts.
ROUTECARE_FIELD_KEYS = _field_keys

ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "ninja",
    "routecare.core",
    "routecare.orgs",
    "routecare.audit",
    "routecare.accounts",
    "routecare.people",
    "routecare.cards",
    "routecare.directory",
    "routecare.referrals",
    "routecare.notifications",
    "routecare.flows",
    "routecare.indicators",
    "routecare.feedback",
    "routecare.messaging",
    "routecare.retention",
    "routecare.sync",
    "routecare.preregistration",
    "routecare.cash",
    "django_tasks",
    "django_tasks_db",
    "routecare.demo",
    "routecare.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "routecare.accounts.middleware.SessionLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "routecare.core.middleware.NoStoreMiddleware",
    "routecare.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

# The bench serves its floor and bare view beside the project (routecare.bench.urls) from a
# gunicorn it starts on loopback (`make bench`, docs/benchmarks.md "The floor"); never in
# production.
ROUTECARE_BENCH_URLS = envbool("ROUTECARE_BENCH_URLS", "false")
if PRODUCTION and ROUTECARE_BENCH_URLS:
    raise RuntimeError("ROUTECARE_BENCH_URLS is for the bench, not for production.")
ROOT_URLCONF = "routecare.bench.urls" if ROUTECARE_BENCH_URLS else "routecare.urls"
WSGI_APPLICATION = "routecare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "routecare" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "routecare.accounts.context.actor",
                "routecare.sync.context.node_status",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'routecare.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the single writer work side by side on a field laptop. A field
    # node syncs to disk at every commit: a power cut must not undo what it acknowledged.
    _synchronous = "FULL" if envbool("ROUTECARE_NODE", "false") else "NORMAL"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={_synchronous};",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "people:home"

# Lockout after repeated failed sign-ins (django-axes), per user name and address together.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", "30") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Idle timeout: the session cookie lives this long after the last request.
SESSION_COOKIE_AGE = envint("SESSION_IDLE_MINUTES", "30") * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute timeout: signed out this long after signing in, whatever the activity.
ROUTECARE_SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_HOURS", "12") * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "true" if PRODUCTION else "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")

# Roles whose sign-in needs a second factor (TOTP).
ROUTECARE_TWO_FACTOR_ROLES = ("focal_point", "sysadmin")
OTP_TOTP_ISSUER = "RouteCare"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("ar", _("Arabic")),
]
LANGUAGES_BIDI = ["ar", "fa", "ps", "ur"]
LOCALE_PATHS = [BASE_DIR / "routecare" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# Per process: short-lived answers many requests share (routecare/core/caching.py) and
# booklet PDFs. Nothing about people on the move is cached, nor password hashes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": envint("ROUTECARE_CACHE_ENTRIES", "5000")},
    },
    # Whole public pages (tens of KB each), apart: at most ~25 MB a process.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": envint("ROUTECARE_PAGE_CACHE_ENTRIES", "500")},
    },
}

# Answers kept as objects, not copies (core.caching, ``shared``): dashboards, ~20 KB each.
ROUTECARE_SHARED_CACHE_ENTRIES = envint("ROUTECARE_SHARED_CACHE_ENTRIES", "500")

# Several processes or servers: the caches' generation counters and the public pages live in
# Redis (core.caching, docs/operations.md), so a change reaches every process at its next
# request. The URL may carry a password, so it is a secret (or REDIS_URL_FILE).
REDIS_URL = envsecret("REDIS_URL") or ""
if PRODUCTION and REDIS_URL and not _redis_password(REDIS_URL):
    raise RuntimeError(
        "ROUTECARE_PRODUCTION needs a password in REDIS_URL (redis://:password@host:6379/0)."
    )
# Every key RouteCare writes starts with it: several sites (or test runs) may share a Redis.
ROUTECARE_REDIS_PREFIX = os.environ.get("ROUTECARE_REDIS_PREFIX", "routecare:")

STATIC_URL = "static/"
# Where `collectstatic` gathers the hashed copies production serves (see README, "Deploy").
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
if not STATIC_ROOT.is_absolute():  # "." would serve the checkout, its database and secrets
    raise RuntimeError("STATIC_ROOT must be an absolute path.")
# Outside production whitenoise serves static files straight from the apps and the vendor
# folder, so `make run` needs no collectstatic; production serves the collected, hashed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION
# Project-wide assets and the front-end libraries the Makefile copies from node_modules.
STATICFILES_DIRS = [BASE_DIR / "routecare" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Request lines carry record ids: log server errors only, never 403/404 paths.
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        # WeasyPrint narrates every step of every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# Background tasks (django-tasks): stored in the database, run by `routecare db_worker`
# (`make worker`); ROUTECARE_TASKS=immediate runs them in the request instead.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if os.environ.get("ROUTECARE_TASKS") == "immediate"
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# Email: notifications carry a link and no personal data. The console backend prints them in
# development; set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_* in
# production.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "RouteCare <noreply@localhost>")
# Links in emails point here.
# Regional dashboards are protected a year at a time, ahead, by the periodic job
# indicators.regional (every REGIONAL_PATTERN_EVERY seconds); a year stale for longer than
# REGIONAL_PATTERN_LAG seconds (no worker running) is computed in the request instead.
REGIONAL_PATTERN_EVERY = envint("ROUTECARE_REGIONAL_EVERY", "300")
REGIONAL_PATTERN_LAG = envint("ROUTECARE_REGIONAL_LAG", "900")
ROUTECARE_BASE_URL = os.environ.get("ROUTECARE_BASE_URL", "http://127.0.0.1:8000")

# KoboToolbox servers are reached over https only; ROUTECARE_KOBO_ALLOW_HTTP=true also allows
# plain http (a test server on the same machine, a Kobo server on a private network).
KOBO_ALLOW_HTTP = envbool("ROUTECARE_KOBO_ALLOW_HTTP", "false")
# Behind a reverse proxy, rate limits take the client address from the last hop the proxy
# added to X-Forwarded-For; without one, from the connection (a client's own header is never
# trusted).
ROUTECARE_TRUSTED_PROXY = envbool("ROUTECARE_TRUSTED_PROXY", "false")
# Public feedback: submissions per client address and hour.
ROUTECARE_FEEDBACK_PER_HOUR = envint("ROUTECARE_FEEDBACK_PER_HOUR", "5")
# Pre-registrations from one connection per hour (a family on one phone, a shared Wi-Fi at a
# transit centre): beyond it the public form stores nothing.
ROUTECARE_PREREGISTRATIONS_PER_HOUR = envint("ROUTECARE_PREREGISTRATIONS_PER_HOUR", "20")

# A field node (docs/sync.md): this installation runs at one service point and sends every
# change of a synced record to its server (`routecare node enroll` sets it up).
ROUTECARE_NODE = envbool("ROUTECARE_NODE", "false")
# How often a node tries to sync when it has a link (the periodic job checks every minute).
ROUTECARE_SYNC_SECONDS = envint("ROUTECARE_SYNC_SECONDS", "60")
# On the server: unused short codes each node holds after a sync (people.sync), so that it
# can register that many people offline before it must sync again.
ROUTECARE_RESERVED_SHORT_CODES = envint("ROUTECARE_RESERVED_SHORT_CODES", "500")

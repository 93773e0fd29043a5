"""Settings, from environment variables only.

Every value is read through a small typed helper that fails loudly on a bad value
(the healthchecks way). The demo (`wenming demo`) and the test suite set their own
environment before this module is imported; production must set `SECRET_KEY` and
`WENMING_DATA_KEY` itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The demo runs with DEBUG off (like production) but may generate its own secrets.
DEMO = env_bool("WENMING_DEMO", False)
TESTING = env_bool("WENMING_TESTING", False)

DATA_DIR = Path(env_str("WENMING_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

_INSECURE_KEYS = {"", "change-me", "changeme", "secret", "insecure"}
SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY in _INSECURE_KEYS or len(SECRET_KEY) < 32:
    if DEBUG or DEMO or TESTING:
        SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-0123456789"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 32 characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )

# Personal data encryption keys: comma-separated base64 keys of 32 bytes; the first
# encrypts, all decrypt (so keys can be rotated). See wenming.core.crypto.
WENMING_DATA_KEY = env_str("WENMING_DATA_KEY")
if not WENMING_DATA_KEY and not (DEBUG or DEMO or TESTING):
    raise ImproperlyConfigured(
        "WENMING_DATA_KEY must be set (32 random bytes, base64): "
        "python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or DEMO) else "")
if TESTING:
    ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "huey.contrib.djhuey",
    "ninja",
    "wenming.core",
    "wenming.accounts",
    "wenming.network",
    "wenming.volunteers",
    "wenming.activities",
    "wenming.records",
    "wenming.certificates",
    "wenming.notifications",
    "wenming.demands",
    "wenming.open311",
    "wenming.households",
    "wenming.fund",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wenming.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After sessions, language and auth, so the 400 page renders like any other.
    "wenming.core.middleware.InputGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wenming.core.middleware.RequestContextMiddleware",
    "wenming.core.middleware.ServiceErrorMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wenming.urls"
WSGI_APPLICATION = "wenming.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wenming.core.context_processors.site",
            ],
        },
    },
]

# Database: SQLite under the data folder by default, anything else by DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "wenming.sqlite3"),
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write
                # lock at BEGIN so concurrent writers queue instead of failing mid-way.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "wenming"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions: with Redis, read from the cache and written through to the database
# (cached_db), so that a logged-in request (a check-in burst is thousands of them) costs
# no database query for its session. Never with the per-process LocMemCache: a session
# ended in one worker would live on in the others' caches.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# Background jobs (Huey): SQLite storage by default, Redis when REDIS_URL is set,
# immediate (run inline) in tests.
HUEY: dict[str, object]
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("HUEY_NAME", "wenming"),
        "url": REDIS_URL,
        "immediate": TESTING,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "wenming",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": TESTING,
    }
HUEY["consumer"] = {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "wenming.accounts.backends.PhonePasswordBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "wenming.accounts.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "wenming.accounts.password_validation.CommonPasswordValidator"},
    {"NAME": "wenming.accounts.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Login lockout (django-axes): a phone number is locked out from an IP address after
# AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_TIME. Lockout records store the keyed
# hash of the phone number, never the number itself.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "phone"
AXES_USERNAME_CALLABLE = "wenming.accounts.backends.axes_username"
# axes keeps the POSTed form in AccessAttempt.post_data and masks only these fields:
# the login field is "phone", so it must be listed or the number is stored as typed.
AXES_SENSITIVE_PARAMETERS = ["phone", "username", "password", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout neither count nor restart the cool-off: otherwise anyone
# behind the same NAT could keep a user locked out for ever by trying now and then.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Against spraying many numbers from one address: past this many failed logins in
# LOGIN_IP_WINDOW seconds, the address may not try again until the window ends.
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)
LOGIN_IP_WINDOW = env_int("LOGIN_IP_WINDOW_SECONDS", 900)
# Text-message codes for self-registration: per address an hour, per number a day.
PHONE_CODE_IP_HOURLY = env_int("PHONE_CODE_IP_HOURLY", 10)
PHONE_CODE_DAILY = env_int("PHONE_CODE_DAILY", 5)
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Successful logins are in our own audit log; axes' access log would only grow.
AXES_DISABLE_ACCESS_LOG = True
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_VERBOSE = False

# Check-in (签到): the QR token's time slot, the grace period before an activity starts,
# the geofence radius around an activity that has coordinates, and the cap on service
# minutes counted per volunteer per day.
CHECKIN_TOKEN_SECONDS = env_int("CHECKIN_TOKEN_SECONDS", 30)
CHECKIN_GRACE_MINUTES = env_int("CHECKIN_GRACE_MINUTES", 30)
CHECKIN_RADIUS_METERS = env_int("CHECKIN_RADIUS_METERS", 200)
SERVICE_MINUTES_PER_DAY = env_int("SERVICE_MINUTES_PER_DAY", 8 * 60)

# Certificates (志愿服务证明): the signing secret (falls back to SECRET_KEY; set it so
# that rotating SECRET_KEY does not invalidate issued certificates), and the public
# address printed in the certificate's QR code (falls back to the address the PDF was
# downloaded from; set it when staff work on an internal host name).
WENMING_CERT_KEY = env_str("WENMING_CERT_KEY")
# Ledgers (fund, points): the Ed25519 key that signs their published checkpoints, 32
# random bytes base64 (falls back to one derived from SECRET_KEY: set it in production,
# and keep it, since checkpoints are checked against its public key).
WENMING_LEDGER_KEY = env_str("WENMING_LEDGER_KEY")
WENMING_PUBLIC_URL = env_str("WENMING_PUBLIC_URL").rstrip("/")
# Where text messages go (a dotted path to a class with send(phone, text)); the default
# only writes them to the log, since no SMS provider is reachable from here.
# Who Open311 clients contact about the API (the discovery document's `contact`).
WENMING_OPEN311_CONTACT = env_str("WENMING_OPEN311_CONTACT", "新时代文明实践中心")
WENMING_SMS_BACKEND = env_str("WENMING_SMS_BACKEND", "wenming.notifications.sms.LoggingSmsBackend")

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# Security: `manage.py check --deploy` is clean when DEBUG is off.
SECURE_HTTPS = env_bool("SECURE_HTTPS", not (DEBUG or DEMO or TESTING))
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Huey's consumer adds a handler of its own to a "huey" logger that has none, and
        # its lines then print twice (its handler and the root's): give it ours, once.
        "huey": {"handlers": ["console"], "propagate": False},
    },
}

# Paging for every list page and API list.
WENMING_PAGE_SIZE = env_int("WENMING_PAGE_SIZE", 25)

"""Settings, all read from the environment with documented defaults.

| variable              | default                                  | meaning |
|-----------------------|------------------------------------------|---------|
| DIEMCAU_SECRET_KEY    | a development key (refused when DEBUG=0)  | Django secret key |
| DIEMCAU_DEBUG         | 1                                        | debug pages and relaxed cookies |
| DIEMCAU_ALLOWED_HOSTS | 127.0.0.1,localhost,testserver           | comma-separated host names |
| DIEMCAU_CSRF_TRUSTED_ORIGINS | (empty)                           | origins trusted for CSRF behind a reverse proxy (https://…) |
| DATABASE_URL          | sqlite:///<DIEMCAU_VAR_DIR>/diemcau.sqlite3 | database (postgres://… in production) |
| DIEMCAU_DB_CONN_MAX_AGE | 0                                      | seconds a database connection is kept (0: one per request) |
| DIEMCAU_VAR_DIR       | ./var                                    | data folder: database, uploads, recordings |
| DIEMCAU_RULEBOOK      | khanh-hoa-2023                           | the province's rulebook (see `diemcau rulebook show`) |
| DIEMCAU_REDIS_URL     | (empty: in-process channel layer, SQLite task queue) | Redis for Channels and Huey |
| DIEMCAU_TIME_ZONE     | Asia/Ho_Chi_Minh                         | time zone shown to users |
| DIEMCAU_LOG_LEVEL     | INFO                                     | log level of the root logger |
| DIEMCAU_HUEY_IMMEDIATE | 0                                       | 1: run background tasks at once in the calling process (no worker; debugging) |
| DIEMCAU_BASE_URL      | http://127.0.0.1:8000                    | public address of the site, for links in e-mails and webhooks |
| DIEMCAU_EMAIL_BACKEND | console                                  | `console` (print e-mails), `smtp`, or a Django e-mail backend path |
| DIEMCAU_EMAIL_FROM    | diemcau <noreply@localhost>              | sender address of notification e-mails |
| DIEMCAU_SMTP_HOST     | localhost                                | SMTP server (with DIEMCAU_EMAIL_BACKEND=smtp) |
| DIEMCAU_SMTP_PORT     | 587                                      | SMTP port |
| DIEMCAU_SMTP_USER     | (empty)                                  | SMTP login |
| DIEMCAU_SMTP_PASSWORD | (empty)                                  | SMTP password |
| DIEMCAU_SMTP_TLS      | 1 (0 when DIEMCAU_SMTP_SSL=1)            | STARTTLS on the SMTP connection |
| DIEMCAU_SMTP_SSL      | 0                                        | implicit TLS (port 465); not together with DIEMCAU_SMTP_TLS |
| DIEMCAU_SMTP_TIMEOUT  | 30                                       | seconds before an SMTP connection is given up (then retried) |
| DIEMCAU_WEBHOOK_URL   | (empty: no webhook channel)              | http(s) address that receives notifications as JSON POSTs (Zalo/Telegram bridge) |
| DIEMCAU_WEBHOOK_SECRET | (empty; required when DEBUG=0 and a URL is set) | key of the `X-Diemcau-Signature: sha256=<HMAC>` header |
| DIEMCAU_JANUS         | 1                                        | scripts/run.sh (`make run`) starts this machine's Janus; 0 serves without media |
| DIEMCAU_JANUS_DIR     | <DIEMCAU_VAR_DIR>/janus                  | generated Janus config folder and its secrets.json (0600) |
| DIEMCAU_JANUS_BINARY  | /usr/bin/janus                           | the Janus executable (Debian package `janus`) |
| DIEMCAU_JANUS_LIB_DIR | /usr/lib/x86_64-linux-gnu/janus          | Janus plugins/ and transports/ folders |
| DIEMCAU_JANUS_NODE_NAME | mcu-1                                  | MCU node name of the local Janus (`diemcau janus run --register`) |
| DIEMCAU_JANUS_INTERFACE | (empty: the default route's interface) | the one interface ICE may use (`nat.ice_enforce_list`) |
| DIEMCAU_JANUS_RTP_PORT_RANGE | 20000-20200                       | UDP ports for media (open only these in the firewall) |
| DIEMCAU_JANUS_HTTP_PORT / _ADMIN_PORT / _WS_PORT | 8088 / 7088 / 8188 | Janus API, admin API, WebSockets (all on 127.0.0.1) |
| DIEMCAU_JANUS_PUBLIC_WS_URL | ws://127.0.0.1:<ws port>/          | what browsers connect to (a TLS reverse proxy in production) |
| DIEMCAU_JANUS_RECORDINGS_DIR | <DIEMCAU_VAR_DIR>/recordings       | where Janus writes .mjr recordings |
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DIEMCAU_DEBUG", True)
_DEV_SECRET = "diemcau-development-only-secret-key-change-me-in-production"
SECRET_KEY = os.environ.get("DIEMCAU_SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("DIEMCAU_SECRET_KEY must be set when DIEMCAU_DEBUG=0")
ALLOWED_HOSTS = env_list("DIEMCAU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DIEMCAU_CSRF_TRUSTED_ORIGINS", "")

VAR_DIR = Path(os.environ.get("DIEMCAU_VAR_DIR", Path.cwd() / "var")).resolve()
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_URL = "/static/"

RULEBOOK = os.environ.get("DIEMCAU_RULEBOOK", "khanh-hoa-2023")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "huey.contrib.djhuey",
    "diemcau.core",
    "diemcau.rulebooks",
    "diemcau.ui",
    "diemcau.directory",
    "diemcau.mcu",
    "diemcau.scheduling",
    "diemcau.media",
    "diemcau.reports",
    "diemcau.notifications",
    "diemcau.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "diemcau.core.middleware.VietnameseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "diemcau.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "diemcau.urls"
ASGI_APPLICATION = "diemcau.asgi.application"
WSGI_APPLICATION = "diemcau.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "diemcau.ui.context_processors.diemcau",
                "diemcau.notifications.context_processors.unread_count",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'diemcau.sqlite3'}",
        conn_max_age=int(os.environ.get("DIEMCAU_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers never both read
    # the audit chain head and then collide; the timeout waits instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory, so tests with several connections lock like production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-diemcau-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DIEMCAU_TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = os.environ.get("DIEMCAU_REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Janus (media plane, diemcau.media) ---------------------------------------------------
# The local Janus is always started from the project's own generated config folder
# (`diemcau janus config|run`), never from /etc/janus (DESIGN: Janus facts).
JANUS_DIR = Path(os.environ.get("DIEMCAU_JANUS_DIR") or VAR_DIR / "janus").resolve()
JANUS_BINARY = os.environ.get("DIEMCAU_JANUS_BINARY", "/usr/bin/janus")
JANUS_LIB_DIR = os.environ.get("DIEMCAU_JANUS_LIB_DIR", "/usr/lib/x86_64-linux-gnu/janus")
JANUS_NODE_NAME = os.environ.get("DIEMCAU_JANUS_NODE_NAME", "mcu-1")
JANUS_INTERFACE = os.environ.get("DIEMCAU_JANUS_INTERFACE", "")
JANUS_RTP_PORT_RANGE = os.environ.get("DIEMCAU_JANUS_RTP_PORT_RANGE", "20000-20200")
JANUS_HTTP_PORT = int(os.environ.get("DIEMCAU_JANUS_HTTP_PORT", "8088"))
JANUS_ADMIN_PORT = int(os.environ.get("DIEMCAU_JANUS_ADMIN_PORT", "7088"))
JANUS_WS_PORT = int(os.environ.get("DIEMCAU_JANUS_WS_PORT", "8188"))
JANUS_PUBLIC_WS_URL = os.environ.get("DIEMCAU_JANUS_PUBLIC_WS_URL", "")
JANUS_RECORDINGS_DIR = Path(
    os.environ.get("DIEMCAU_JANUS_RECORDINGS_DIR") or VAR_DIR / "recordings"
).resolve()
# --- end of Janus -------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DIEMCAU_LOG_LEVEL", "INFO")},
}

# ---- Background worker (Huey), e-mail and webhook notifications ------------------------------
# The worker (`diemcau run_huey`) delivers notifications and runs the periodic jobs. Its queue
# is a SQLite file next to the database, or Redis when DIEMCAU_REDIS_URL is set (several
# machines). Immediate mode runs each task in the calling process, for debugging only.
HUEY: dict[str, object] = {
    "name": "diemcau",
    "immediate": env_bool("DIEMCAU_HUEY_IMMEDIATE", False),
    "utc": True,
    "consumer": {"workers": 2, "worker_type": "thread"},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})

BASE_URL = os.environ.get("DIEMCAU_BASE_URL", "http://127.0.0.1:8000")

_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = os.environ.get("DIEMCAU_EMAIL_BACKEND", "") or "console"
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
DEFAULT_FROM_EMAIL = os.environ.get("DIEMCAU_EMAIL_FROM", "diemcau <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("DIEMCAU_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DIEMCAU_SMTP_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("DIEMCAU_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DIEMCAU_SMTP_PASSWORD", "")
EMAIL_USE_SSL = env_bool("DIEMCAU_SMTP_SSL", False)
EMAIL_USE_TLS = env_bool("DIEMCAU_SMTP_TLS", not EMAIL_USE_SSL)
if EMAIL_USE_SSL and EMAIL_USE_TLS:
    raise ImproperlyConfigured("DIEMCAU_SMTP_TLS and DIEMCAU_SMTP_SSL exclude each other")
EMAIL_TIMEOUT = int(os.environ.get("DIEMCAU_SMTP_TIMEOUT", "30"))

WEBHOOK_URL = os.environ.get("DIEMCAU_WEBHOOK_URL", "")
WEBHOOK_SECRET = os.environ.get("DIEMCAU_WEBHOOK_SECRET", "")
if WEBHOOK_URL and not WEBHOOK_SECRET and not DEBUG:
    raise ImproperlyConfigured("DIEMCAU_WEBHOOK_SECRET must be set with DIEMCAU_WEBHOOK_URL")
# The consumer logs through the console handler above (once, not twice).
LOGGING["loggers"] = {
    **LOGGING.get("loggers", {}),  # type: ignore[dict-item]
    "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
}
# ---- end of background worker and notifications ---------------------------------------------

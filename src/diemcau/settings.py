"""Settings, all read from the environment with documented defaults.

| variable              | default                                  | meaning |
|-----------------------|------------------------------------------|---------|
| DIEMCAU_SECRET_KEY    | a development key (refused when DEBUG=0)  | Django secret key |
| DIEMCAU_DEBUG         | 1                                        | debug pages and relaxed cookies |
| DIEMCAU_ALLOWED_HOSTS | 127.0.0.1,localhost                      | comma-separated host names |
| DATABASE_URL          | sqlite:///<DIEMCAU_VAR_DIR>/diemcau.sqlite3 | database (postgres://… in production) |
| DIEMCAU_VAR_DIR       | ./var                                    | data folder: database, uploads, recordings |
| DIEMCAU_RULEBOOK      | khanh-hoa-2023                           | the province's rulebook (see `diemcau rulebook show`) |
| DIEMCAU_REDIS_URL     | (empty: in-process channel layer, SQLite task queue) | Redis for Channels and Huey |
| DIEMCAU_TIME_ZONE     | Asia/Ho_Chi_Minh                         | time zone shown to users |
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
    "diemcau.core",
    "diemcau.rulebooks",
    "diemcau.directory",
    "diemcau.media",
    "diemcau.scheduling",
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
                "diemcau.web.context_processors.diemcau",
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

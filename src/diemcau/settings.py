"""Settings, all read from the environment with documented defaults.

| variable              | default                                  | meaning |
|-----------------------|------------------------------------------|---------|
| DIEMCAU_SECRET_KEY    | (read from <DIEMCAU_VAR_DIR>/secret-key, generated once, 0600) | Django secret key |
| DIEMCAU_AUDIT_KEY     | (read from DIEMCAU_AUDIT_KEY_FILE)       | key of the audit chain's HMAC and of its checkpoints; never in the database |
| DIEMCAU_AUDIT_KEY_FILE | <DIEMCAU_VAR_DIR>/audit-key (generated once, 0600) | file holding the audit key |
| DIEMCAU_AUDIT_CHAINS  | 8 on PostgreSQL, 1 on SQLite             | independent audit chains new events are spread over (each with its own head to lock) |
| DIEMCAU_DEBUG         | 1                                        | debug pages and relaxed cookies |
| DIEMCAU_ALLOWED_HOSTS | 127.0.0.1,localhost,testserver           | comma-separated host names |
| DIEMCAU_CSRF_TRUSTED_ORIGINS | (empty)                           | origins trusted for CSRF behind a reverse proxy (https://…) |
| DIEMCAU_HTTPS         | 1 when DEBUG=0, else 0                   | browsers reach the site over TLS: secure cookies, HTTPS redirect, HSTS |
| DIEMCAU_SSL_REDIRECT  | DIEMCAU_HTTPS                            | redirect plain HTTP to HTTPS |
| DIEMCAU_HSTS_SECONDS  | 31536000 with HTTPS, else 0              | Strict-Transport-Security max-age |
| DIEMCAU_HSTS_INCLUDE_SUBDOMAINS / _PRELOAD | 1 / 0               | HSTS includeSubDomains / preload |
| DIEMCAU_PROXY_SSL_HEADER | (empty)                               | header by which the TLS proxy says the browser used HTTPS (X-Forwarded-Proto) |
| DATABASE_URL          | sqlite:///<DIEMCAU_VAR_DIR>/diemcau.sqlite3 | database (postgres://… in production) |
| DIEMCAU_DB_CONN_MAX_AGE | 0                                      | seconds a database connection is kept (0: one per request) |
| DIEMCAU_VAR_DIR       | ./var                                    | data folder: database, uploads, recordings |
| DIEMCAU_RULEBOOK      | khanh-hoa-2023                           | the province's rulebook (see `diemcau rulebook show`) |
| DIEMCAU_REDIS_URL     | (empty: in-process channel layer, SQLite task queue) | Redis for Channels and Huey |
| DIEMCAU_TIME_ZONE     | Asia/Ho_Chi_Minh                         | time zone shown to users |
| DIEMCAU_LOGIN_FAILURES_PER_ACCOUNT / _PER_ADDRESS | 5 / 20       | failed sign-ins before an account / an address is locked (django-axes) |
| DIEMCAU_LOGIN_LOCKOUT_MINUTES | 30                               | lockout length; 0: until an administrator unlocks |
| DIEMCAU_2FA_ROLES     | admin,operator                           | roles that must sign in with a TOTP code (optional for others) |
| DIEMCAU_2FA_ISSUER    | diemcau                                  | name shown by authenticator apps |
| DIEMCAU_SESSION_EXPIRE_AT_BROWSER_CLOSE | 1                      | sign-in ends when the browser closes |
| DIEMCAU_SESSION_IDLE_MINUTES | 30                                | sign-in ends after this long without activity |
| DIEMCAU_LOG_LEVEL     | INFO                                     | log level of the root logger |
| DIEMCAU_HUEY_IMMEDIATE | 0                                       | 1: run background tasks at once in the calling process (no worker; debugging) |
| DIEMCAU_PUBLIC_URL    | http://127.0.0.1:8000 (the request's own address for page links) | public address of the site (https://… behind a TLS proxy): links in e-mails, webhooks, join links, feeds; its origin is trusted for CSRF |
| DIEMCAU_BASE_URL      | (empty)                                  | older name of DIEMCAU_PUBLIC_URL |
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
| DIEMCAU_IMAP_URL      | (empty: no mailbox is read)              | the official mailbox registrations are sent to (KH Đ13.2a): imaps://user:password@host/INBOX |
| DIEMCAU_WEBHOOK_SECRET | (empty; required when DEBUG=0 and a URL is set) | key of the `X-Diemcau-Signature: sha256=<HMAC>` header |
| DIEMCAU_JANUS         | 1                                        | scripts/run.sh (`make run`) starts this machine's Janus; 0 serves without media |
| DIEMCAU_JANUS_DIR     | <DIEMCAU_VAR_DIR>/janus                  | generated Janus config folder and its secrets.json (0600) |
| DIEMCAU_JANUS_BINARY  | /usr/bin/janus                           | the Janus executable (Debian package `janus`) |
| DIEMCAU_JANUS_LIB_DIR | /usr/lib/x86_64-linux-gnu/janus          | Janus plugins/ and transports/ folders |
| DIEMCAU_JANUS_NODE_NAME | mcu-1                                  | MCU node name of the local Janus (`diemcau janus run --register`) |
| DIEMCAU_JANUS_INTERFACE | (empty: the default route's interface) | the one interface ICE may use (`nat.ice_enforce_list`) |
| DIEMCAU_JANUS_RTP_PORT_RANGE | 20000-20200                       | UDP ports for media (open only these in the firewall) |
| DIEMCAU_JANUS_EVENT_LOOPS | (empty: one per CPU core)            | Janus's `event_loops`: threads serving every PeerConnection; 0: a thread per handle (Janus's own default) |
| DIEMCAU_JANUS_HTTP_PORT / _ADMIN_PORT / _WS_PORT | 8088 / 7088 / 8188 | Janus API, admin API, WebSockets (all on 127.0.0.1) |
| DIEMCAU_JANUS_PUBLIC_WS_URL | ws://127.0.0.1:<ws port>/          | what browsers connect to (a TLS reverse proxy in production) |
| DIEMCAU_JANUS_RECORDINGS_DIR | <DIEMCAU_VAR_DIR>/recordings       | where Janus writes .mjr recordings |
| DIEMCAU_ARCHIVE_STORAGE | filesystem                             | where the archive keeps recordings and materials: `filesystem` or `s3` (django-storages, `pip install 'diemcau[s3]'`) |
| DIEMCAU_ARCHIVE_DIR   | <DIEMCAU_VAR_DIR>/archive                | the archive's folder (filesystem storage) |
| DIEMCAU_ARCHIVE_S3_BUCKET | (empty)                              | bucket of the S3-compatible store |
| DIEMCAU_ARCHIVE_S3_ENDPOINT_URL | (empty: AWS)                   | address of the S3-compatible store (MinIO, Ceph…) |
| DIEMCAU_ARCHIVE_S3_REGION | (empty)                              | region of the store |
| DIEMCAU_ARCHIVE_S3_ACCESS_KEY / _SECRET_KEY | (empty)            | credentials of the store |
| DIEMCAU_ARCHIVE_CAPACITY_GB | (empty: the disk's free space)     | space set aside for the archive, for the console's "space left" (needed with S3) |
| DIEMCAU_ARCHIVE_INCOMING_DIR | <DIEMCAU_VAR_DIR>/incoming         | where nodes on other machines push their recordings (`<node>/<meeting>/`, docs/archive.md) |
| DIEMCAU_ARCHIVE_WORK_DIR | <DIEMCAU_VAR_DIR>/archive-work        | scratch folder of the worker that makes the MP4 files |
| DIEMCAU_ARCHIVE_VIDEO_SIZE | 1280x720                            | picture size of the archived MP4 (the grid of endpoints) |
| DIEMCAU_ARCHIVE_FPS   | 25                                       | frame rate of the archived MP4 |
| DIEMCAU_ARCHIVE_PRESET | veryfast                                | x264 preset of the archived MP4 (speed against size) |
| DIEMCAU_ARCHIVE_ATTEMPTS | 3                                     | tries at making a meeting's MP4 before the operators are told it failed |
| DIEMCAU_ARCHIVE_RETRY_SECONDS | 300                              | wait between two tries |
| DIEMCAU_ARCHIVE_LINK_MINUTES | 15                                 | lifetime of a signed download link |
| DIEMCAU_ARCHIVE_RETENTION_DAYS | (empty: the rulebook's `handover.retention_days`) | days a recording and its materials are kept after the meeting (0: for good) |
| DIEMCAU_ARCHIVE_MAX_UPLOAD_MB | 100                              | largest material file the host may upload |
| DIEMCAU_SIP_ADDRESS   | (empty: the ICE interface's IPv4 address) | the node's address hardware terminals reach; Janus's SIP plugin binds it (never loopback) |
| DIEMCAU_SIP_PORT      | 5060                                     | the SIP port terminals dial (`<meeting code>@<address>:<port>`) |
| DIEMCAU_SIP_RTP_PORT_RANGE | 20400-20599                         | UDP ports of the SIP plugin's media with terminals (open them with 5060) |
| DIEMCAU_SIP           | 1                                        | `make run` enables Janus's SIP plugin and starts the node's mixer agent; 0: browsers only |
| DIEMCAU_MIXER_CANVAS  | 1280x720@25                              | the composed picture terminals receive: width x height @ frames per second |
| DIEMCAU_MIXER_VIDEO_CODEC | H264                                 | the video codec offered to a terminal the MCU calls (H264 or VP8) |
| DIEMCAU_MIXER_AUDIO_CODEC | PCMU                                 | the sound codec offered to it (PCMU, PCMA, G722 or OPUS) |
| DIEMCAU_MIXER_H264_KBPS | 1500                                   | bitrate of the composed picture sent to H.264 terminals |
| DIEMCAU_MIXER_VP8_KBPS | 1200                                    | bitrate of the composed picture sent to VP8 terminals |
"""

import os
import secrets
from datetime import timedelta
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


def secret_from_file(path: Path) -> str:
    """The secret kept in `path`; the first time, a new random one is written there (0600).

    Written under a temporary name and linked into place, so that processes starting at the
    same moment all read the one secret that won.
    """
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        value = path.read_text(encoding="utf-8").strip()
    if len(value) < 32:
        raise ImproperlyConfigured(f"{path} must hold a secret of at least 32 characters")
    return value


DEBUG = env_bool("DIEMCAU_DEBUG", True)
VAR_DIR = Path(os.environ.get("DIEMCAU_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)
SECRET_KEY = os.environ.get("DIEMCAU_SECRET_KEY") or secret_from_file(VAR_DIR / "secret-key")
ALLOWED_HOSTS = env_list("DIEMCAU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DIEMCAU_CSRF_TRUSTED_ORIGINS", "")

# R22: the audit chain is keyed with a secret that is not in the database (core.audit), so
# whoever owns the database cannot rewrite the log unseen. Keep it on the application host
# only, with a copy in a safe place: without it the chain cannot be verified.
AUDIT_KEY = os.environ.get("DIEMCAU_AUDIT_KEY") or secret_from_file(
    Path(os.environ.get("DIEMCAU_AUDIT_KEY_FILE") or VAR_DIR / "audit-key")
)
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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "diemcau.core",
    "diemcau.rulebooks",
    "diemcau.ui",
    "diemcau.directory",
    "diemcau.mcu",
    "diemcau.scheduling",
    "diemcau.media",
    "diemcau.desk",
    "diemcau.proceedings",
    "diemcau.archive",
    "diemcau.reports",
    "diemcau.notifications",
    "diemcau.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "diemcau.core.api_errors.ApiErrorsMiddleware",  # JSON errors under /api/, whoever answers
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "diemcau.core.middleware.VietnameseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "diemcau.core.middleware.UnicodeInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "diemcau.core.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "diemcau.core.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "diemcau.core.middleware.ContentSecurityPolicyMiddleware",
    "diemcau.core.middleware.RequestContextMiddleware",
    "diemcau.core.middleware.RefuseNulMiddleware",
    "diemcau.core.middleware.NotFoundPageMiddleware",
    # Last: it turns a sign-in refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
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
# R22: audited commits lock the head of one chain as they end (core.audit). On PostgreSQL
# they run side by side, so the log is spread over several chains, each verified on its own
# and all covered by a checkpoint; SQLite has one writer at a time, and one chain.
AUDIT_CHAINS = int(os.environ.get("DIEMCAU_AUDIT_CHAINS") or (
    1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 8))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Signing in (R22) -----------------------------------------------------------------------
# django-axes first: it refuses a locked account or address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("DIEMCAU_LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("DIEMCAU_LOGIN_FAILURES_PER_ADDRESS", "20"))
if not 0 < LOGIN_FAILURES_PER_ACCOUNT <= LOGIN_FAILURES_PER_ADDRESS:
    raise ImproperlyConfigured("need 0 < DIEMCAU_LOGIN_FAILURES_PER_ACCOUNT <= "
                               "DIEMCAU_LOGIN_FAILURES_PER_ADDRESS")
_lockout_minutes = int(os.environ.get("DIEMCAU_LOGIN_LOCKOUT_MINUTES", "30"))
AXES_HANDLER = "diemcau.core.login_throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_ACCOUNT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# 0: locked until an administrator unlocks (admin site: users, or login attempts).
AXES_COOLOFF_TIME = timedelta(minutes=_lockout_minutes) if _lockout_minutes > 0 else None
AXES_RESET_ON_SUCCESS = False  # LoginThrottleHandler forgets the account's failures only
AXES_LOCKOUT_CALLABLE = "diemcau.web.account_views.locked_out"
AXES_ENABLE_ADMIN = False  # core.admin shows the attempts, with an audited unlock
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)  # as the audit log (core.middleware)
# Two-factor sign-in (core.two_factor): required for these roles, optional for the others.
TWO_FACTOR_ROLES = env_list("DIEMCAU_2FA_ROLES", "admin,operator")
TWO_FACTOR_URL = "two_factor"
TWO_FACTOR_OPEN_VIEWS = {"two_factor", "two_factor_remove", "logout", "login",
                         "password_change", "set_language"}
OTP_TOTP_ISSUER = os.environ.get("DIEMCAU_2FA_ISSUER", "diemcau")
# Shared room computers: the session ends with the browser, or after this long idle.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("DIEMCAU_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_IDLE_TIMEOUT = int(os.environ.get("DIEMCAU_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT or 12 * 3600

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
# Dates as dd/mm/yyyy and times on 24 hours in every language (diemcau.ui.formats).
FORMAT_MODULE_PATH = ["diemcau.ui.formats"]

STORAGES: dict[str, dict[str, object]] = {
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
            # A consumer waits for its next message with BZPOPMIN for 5 s (channels-redis);
            # redis-py's own read timeout is 5 s as well, so a reply that comes a moment late
            # on a busy machine would kill the socket's consumer. The read may take longer.
            # A process with hundreds of sockets has as many calls to Redis under way when
            # they join or close together (each adds itself to its groups, or leaves them):
            # redis-py's pool refuses the 101st (MaxConnectionsError) instead of waiting.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30,
                                  "max_connections": 1000}]},
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
# A fixed pool of media threads, one per core: with Janus's default (a thread per handle) the
# forwarding cost per stream rose to 0.24-0.27 % of a core near 450 streams on 2 cores, with
# two loops 0.14 % (bench/README.md, `janus_load.py`).
JANUS_EVENT_LOOPS = int(os.environ.get("DIEMCAU_JANUS_EVENT_LOOPS") or os.cpu_count() or 1)
JANUS_HTTP_PORT = int(os.environ.get("DIEMCAU_JANUS_HTTP_PORT", "8088"))
JANUS_ADMIN_PORT = int(os.environ.get("DIEMCAU_JANUS_ADMIN_PORT", "7088"))
JANUS_WS_PORT = int(os.environ.get("DIEMCAU_JANUS_WS_PORT", "8188"))
JANUS_PUBLIC_WS_URL = os.environ.get("DIEMCAU_JANUS_PUBLIC_WS_URL", "")
JANUS_RECORDINGS_DIR = Path(
    os.environ.get("DIEMCAU_JANUS_RECORDINGS_DIR") or VAR_DIR / "recordings"
).resolve()
# --- SIP terminals and the mixer (R23–R25; diemcau.media.agent, diemcau.mixer) ------------
SIP_ENABLED = env_bool("DIEMCAU_SIP", True)
SIP_ADDRESS = os.environ.get("DIEMCAU_SIP_ADDRESS", "")
SIP_PORT = int(os.environ.get("DIEMCAU_SIP_PORT", "5060"))
SIP_RTP_PORT_RANGE = os.environ.get("DIEMCAU_SIP_RTP_PORT_RANGE", "20400-20599")


def _canvas(text: str) -> tuple[int, int, int]:
    try:
        size, _, fps = text.partition("@")
        width, height = (int(part) for part in size.lower().split("x", 1))
        return width, height, int(fps or 25)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DIEMCAU_MIXER_CANVAS must look like 1280x720@25, not {text!r}") from exc


MIXER_CANVAS = _canvas(os.environ.get("DIEMCAU_MIXER_CANVAS", "1280x720@25"))
MIXER_VIDEO_CODEC = os.environ.get("DIEMCAU_MIXER_VIDEO_CODEC", "H264").upper()
MIXER_AUDIO_CODEC = os.environ.get("DIEMCAU_MIXER_AUDIO_CODEC", "PCMU").upper()
MIXER_H264_KBPS = int(os.environ.get("DIEMCAU_MIXER_H264_KBPS", "1500"))
MIXER_VP8_KBPS = int(os.environ.get("DIEMCAU_MIXER_VP8_KBPS", "1200"))
# --- end of Janus -------------------------------------------------------------------------

# ---------------------------------------------------------------- the archive (R19, R27)
ARCHIVE_STORAGE = os.environ.get("DIEMCAU_ARCHIVE_STORAGE", "filesystem")
ARCHIVE_DIR = Path(os.environ.get("DIEMCAU_ARCHIVE_DIR") or VAR_DIR / "archive").resolve()
ARCHIVE_INCOMING_DIR = Path(
    os.environ.get("DIEMCAU_ARCHIVE_INCOMING_DIR") or VAR_DIR / "incoming"
).resolve()
ARCHIVE_WORK_DIR = Path(
    os.environ.get("DIEMCAU_ARCHIVE_WORK_DIR") or VAR_DIR / "archive-work"
).resolve()
_capacity_gb = os.environ.get("DIEMCAU_ARCHIVE_CAPACITY_GB", "")
ARCHIVE_CAPACITY_BYTES = int(float(_capacity_gb) * 1024**3) if _capacity_gb else None
ARCHIVE_VIDEO_SIZE = os.environ.get("DIEMCAU_ARCHIVE_VIDEO_SIZE", "1280x720")
ARCHIVE_FPS = int(os.environ.get("DIEMCAU_ARCHIVE_FPS", "25"))
ARCHIVE_PRESET = os.environ.get("DIEMCAU_ARCHIVE_PRESET", "veryfast")
ARCHIVE_ATTEMPTS = int(os.environ.get("DIEMCAU_ARCHIVE_ATTEMPTS", "3"))
ARCHIVE_RETRY_SECONDS = int(os.environ.get("DIEMCAU_ARCHIVE_RETRY_SECONDS", "300"))
ARCHIVE_LINK_MINUTES = int(os.environ.get("DIEMCAU_ARCHIVE_LINK_MINUTES", "15"))
_retention = os.environ.get("DIEMCAU_ARCHIVE_RETENTION_DAYS", "")
ARCHIVE_RETENTION_DAYS = int(_retention) if _retention else None
ARCHIVE_MAX_UPLOAD_BYTES = int(os.environ.get("DIEMCAU_ARCHIVE_MAX_UPLOAD_MB", "100")) * 1024**2
if ARCHIVE_STORAGE == "s3":
    STORAGES["archive"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("DIEMCAU_ARCHIVE_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("DIEMCAU_ARCHIVE_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DIEMCAU_ARCHIVE_S3_REGION") or None,
            "access_key": os.environ.get("DIEMCAU_ARCHIVE_S3_ACCESS_KEY", ""),
            "secret_key": os.environ.get("DIEMCAU_ARCHIVE_S3_SECRET_KEY", ""),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": ARCHIVE_LINK_MINUTES * 60,
            "file_overwrite": False,
        },
    }
elif ARCHIVE_STORAGE == "filesystem":
    STORAGES["archive"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(ARCHIVE_DIR), "base_url": None},
    }
else:
    raise ImproperlyConfigured("DIEMCAU_ARCHIVE_STORAGE must be filesystem or s3")

# --- HTTPS and security headers (R22; README: behind a TLS reverse proxy) -----------------
# HTTPS: browsers reach the site over TLS (by default whenever DEBUG is off); the cookies are
# then sent over TLS only, plain HTTP is redirected, and HSTS tells browsers to stay on TLS.
HTTPS = env_bool("DIEMCAU_HTTPS", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("DIEMCAU_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("DIEMCAU_HSTS_SECONDS") or (31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DIEMCAU_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DIEMCAU_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading binds the whole registrable domain (often the province's, not ours) for
    # good: a deliberate choice (DIEMCAU_HSTS_PRELOAD=1), not a default to be warned about.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# The TLS proxy's header saying the browser used HTTPS (e.g. X-Forwarded-Proto). Set it only
# when the proxy always sets or overwrites that header: a client could send it otherwise.
_proxy_ssl_header = os.environ.get("DIEMCAU_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from the site's own files — no inline
# script, no eval — so injected markup cannot run. Styles may still be inline (FullCalendar
# writes its own <style>; templates use a few style attributes). Pages that talk to a Janus
# add its origin to connect-src (media.views.allow_media_server); the site's own WebSockets
# are added per request (core.middleware.ContentSecurityPolicyMiddleware).
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF, "'unsafe-inline'"],
        "img-src": [_SELF, "data:", "blob:"],
        "font-src": [_SELF, "data:"],
        "connect-src": [_SELF],
        # The room's pictures and sound are MediaStreams (janus.js), shown in <video>/<audio>.
        "media-src": [_SELF, "blob:", "mediastream:"],
        "worker-src": [_SELF, "blob:"],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    },
}

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

# The public address of the site (core.public_url): links in e-mails, webhooks, join links
# and calendar feeds. DIEMCAU_BASE_URL is its older name. Behind a TLS reverse proxy set it
# to https://…; its origin is then trusted for CSRF and its host name served.
_public_url = (os.environ.get("DIEMCAU_PUBLIC_URL") or os.environ.get("DIEMCAU_BASE_URL")
               or "").strip()
PUBLIC_URL_SET = bool(_public_url)
PUBLIC_URL = (_public_url or "http://127.0.0.1:8000").rstrip("/")
BASE_URL = PUBLIC_URL
if PUBLIC_URL_SET:
    from urllib.parse import urlsplit as _urlsplit

    _public = _urlsplit(PUBLIC_URL)
    if _public.scheme not in ("http", "https") or not _public.hostname:
        raise ImproperlyConfigured("DIEMCAU_PUBLIC_URL must be http(s)://host[:port][/path]")
    _public_origin = f"{_public.scheme}://{_public.netloc}"
    if _public_origin not in CSRF_TRUSTED_ORIGINS:
        CSRF_TRUSTED_ORIGINS.append(_public_origin)
    if _public.hostname not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_public.hostname)

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
# KH Đ13.2a: the official mailbox the worker reads registrations from (scheduling.mailbox).
IMAP_URL = os.environ.get("DIEMCAU_IMAP_URL", "")
WEBHOOK_SECRET = os.environ.get("DIEMCAU_WEBHOOK_SECRET", "")
if WEBHOOK_URL and not WEBHOOK_SECRET and not DEBUG:
    raise ImproperlyConfigured("DIEMCAU_WEBHOOK_SECRET must be set with DIEMCAU_WEBHOOK_URL")
# The consumer logs through the console handler above (once, not twice).
LOGGING["loggers"] = {
    **LOGGING.get("loggers", {}),  # type: ignore[dict-item]
    "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    # Failed sign-ins are in the audit log; axes's own lines stay at warnings.
    "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
}
# ---- end of background worker and notifications ---------------------------------------------

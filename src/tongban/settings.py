"""Django settings, all taken from the environment with safe defaults.

The embedded default (no DATABASE_URL) is a single-node install: SQLite under var/, keys
generated once into var/, a SQLite-backed job queue. A production install sets DATABASE_URL,
TONGBAN_SECRET_KEY, TONGBAN_MASTER_KEY and TONGBAN_QUEUE_URL; see docs/deploy.md.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


VAR_DIR = Path(env("TONGBAN_VAR_DIR", str(BASE_DIR / "var")))
DATA_DIR = Path(env("TONGBAN_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))

DEBUG = env_bool("TONGBAN_DEBUG", False)

# --- database ------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}")
# Connections are kept between requests (per server thread): opening one costs more than most
# requests (SQLite runs its PRAGMAs again, PostgreSQL authenticates); health checks drop dead ones.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("TONGBAN_DB_CONN_MAX_AGE", 300), conn_health_checks=True
    )
}
DB_ENGINE = DATABASES["default"]["ENGINE"]
EMBEDDED = DB_ENGINE == "django.db.backends.sqlite3"
if EMBEDDED:
    # SQLite creates the file but not its folder.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers never deadlock upgrading a read lock; foreign keys are on by Django's default.
    DATABASES["default"]["OPTIONS"] = {
        # Checkpoints every 10,000 pages (~40 MB of WAL) rather than SQLite's 1,000: a checkpoint
        # runs inside whichever commit crosses the mark and syncs the file, so rarer, larger ones
        # take that pause out of most requests (+14 % case throughput). 16 MB of page cache per
        # connection and reads through mmap keep the hot index pages in memory.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
            "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=10000; PRAGMA cache_size=-16384; "
            "PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use an in-memory database unless TONGBAN_TEST_SQLITE names a file (needed for real
    # concurrency and for the browser tests' live server).
    DATABASES["default"]["TEST"] = {"NAME": env("TONGBAN_TEST_SQLITE", "") or None}
elif DB_ENGINE == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env_bool("TONGBAN_DB_PREPARED", True):
        # Parameters bound by the server, and statements a connection runs often prepared once:
        # PostgreSQL then skips planning them again, which for the worklist's short queries costs
        # as much as running them. Turn off behind a transaction-pooling PgBouncer.
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A streaming replica for analytics reads (insight), with the primary as fallback: core.replicas.
if env("TONGBAN_REPLICA_URL") and DB_ENGINE == "django.db.backends.postgresql":
    DATABASES["replica"] = dj_database_url.parse(
        env("TONGBAN_REPLICA_URL"),
        conn_max_age=env_int("TONGBAN_DB_CONN_MAX_AGE", 300),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], "connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["tongban.core.replicas.AnalyticsRouter"] if "replica" in DATABASES else []
TONGBAN_REPLICA_MAX_LAG = env_int("TONGBAN_REPLICA_MAX_LAG_SECONDS", 30)
TONGBAN_REPLICA_CHECK_SECONDS = env_int("TONGBAN_REPLICA_CHECK_SECONDS", 5)


def _key_from_env_or_file(env_name: str, file_name: str, nbytes: int) -> str:
    """Keys come from the environment; only the embedded single-node default may keep them in var/.

    Several app servers with keys generated on each would encrypt with different keys, so a
    non-SQLite install refuses to start without them.
    """
    value = env(env_name)
    if value:
        return value
    if not EMBEDDED:
        raise ImproperlyConfigured(
            f"{env_name} must be set when DATABASE_URL is not SQLite (see docs/deploy.md)"
        )
    path = VAR_DIR / file_name
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


SECRET_KEY = _key_from_env_or_file("TONGBAN_SECRET_KEY", "secret_key", 32)
# Master key for personal-data encryption (SM4), lookup hashes and the audit-journal MAC.
TONGBAN_MASTER_KEY = _key_from_env_or_file("TONGBAN_MASTER_KEY", "master.key", 32)
# Earlier master keys, comma-separated, still accepted for decryption after a rotation.
TONGBAN_MASTER_KEYS_OLD = [k for k in (env("TONGBAN_MASTER_KEYS_OLD", "") or "").split(",") if k]

ALLOWED_HOSTS = [
    h.strip() for h in (env("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]") or "").split(",")
]
CSRF_TRUSTED_ORIGINS = [o for o in (env("TONGBAN_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]

# --- applications --------------------------------------------------------------------------------
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
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_htmx",
    "ninja",  # serves the API docs (Swagger UI) from our own static files, not a CDN
    "huey.contrib.djhuey",
    "tongban.core",
    "tongban.accounts",
    "tongban.catalog",
    "tongban.workflow",
    "tongban.cases",
    "tongban.licences",
    "tongban.exchange",
    "tongban.hotline",
    "tongban.documents",
    "tongban.guide",
    "tongban.proactive",
    "tongban.programme",
    "tongban.insight",
    "tongban.web",
]

MIDDLEWARE = [
    "tongban.core.metrics.MetricsMiddleware",  # outermost: times the whole request (/metrics)
    "tongban.core.middleware.RequestIdMiddleware",
    "tongban.core.edge.EdgeCheckMiddleware",  # NUL, lone surrogates, oversized bodies: refused first
    "tongban.core.ratelimit.RateLimitMiddleware",  # TONGBAN_RATE_LIMITS, before any view or CSRF check
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "tongban.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.core.middleware.SessionIdleMiddleware",
    "tongban.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tongban.accounts.middleware.CachedOTPMiddleware",
    "tongban.accounts.middleware.StaffSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "tongban.web.context_processors.shell",
            ],
        },
    },
]

# --- identity and security -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must be first: refuses locked-out usernames
    "tongban.accounts.backends.UsernameOrIdNumberBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: TONGBAN_LOGIN_FAILURE_LIMIT failures on one *account* from one client address lock that
# pair for the cool-off. Every name of an account (username in any case, ID number in any spelling)
# counts as that account (accounts.backends.lockout_username); failures from elsewhere do not lock
# the owner out, and an administrator can unlock (staff page, `tongban account unlock`).
AXES_FAILURE_LIMIT = env_int("TONGBAN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TONGBAN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tongban.accounts.views.locked_out"
AXES_VERBOSE = False
# The login typed may be an ID number: axes keeps the POST data of failures, so it is masked there too.
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "token", "username", "id_number", "phone"]
AXES_USERNAME_CALLABLE = "tongban.accounts.backends.lockout_username"
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# --- identity assurance (实名认证) -----------------------------------------------------------------
# L1: name + ID number match the population register (a verify-only exchange call); L2: plus a
# mobile number proved by an SMS code; L3: checked in person at a window or by a face check.
# The least level a citizen needs for their licence wallet, 免提交 and shared data about them.
TONGBAN_ASSURANCE_MIN_LEVEL = env_int("TONGBAN_ASSURANCE_MIN_LEVEL", 2)
TONGBAN_ASSURANCE_REQUIRED = {
    "apply": env_int("TONGBAN_ASSURANCE_FOR_APPLYING", 1),  # applying online needs a verified real name
    "licences": TONGBAN_ASSURANCE_MIN_LEVEL,
    "reuse": TONGBAN_ASSURANCE_MIN_LEVEL,
    "shared_data": TONGBAN_ASSURANCE_MIN_LEVEL,
}
# Who answers "do this name and ID number belong together?" — a callable (accounts.identity.
# RegisterCheck protocol). The exchange answers from the 公安 population resource under the
# consuming department's grant; empty: online L1 is not available (window only).
TONGBAN_POPULATION_REGISTER = env("TONGBAN_POPULATION_REGISTER", "tongban.exchange.identity.check_real_name")
TONGBAN_IDENTITY_RESOURCE = env("TONGBAN_IDENTITY_RESOURCE", "population")
TONGBAN_IDENTITY_PREDICATE = env("TONGBAN_IDENTITY_PREDICATE", "real_name")
TONGBAN_IDENTITY_CONSUMER = env("TONGBAN_IDENTITY_CONSUMER", "ggb")  # the department running the portal
# Online real-name checks an account may make per day (each asks the register about a name).
TONGBAN_IDENTITY_DAILY_ATTEMPTS = env_int("TONGBAN_IDENTITY_DAILY_ATTEMPTS", 5)
# SMS: a sender class (core.sms.SmsSender); the console sender writes to TONGBAN_SMS_OUTBOX and the
# log, for the demo and tests. A gateway adapter maps template keys to its own template ids.
TONGBAN_SMS_SENDER = env("TONGBAN_SMS_SENDER", "tongban.core.sms.ConsoleSender")
TONGBAN_SMS_OUTBOX = Path(env("TONGBAN_SMS_OUTBOX", str(VAR_DIR / "sms-outbox.jsonl")))
TONGBAN_SMS_CODE_MINUTES = env_int("TONGBAN_SMS_CODE_MINUTES", 5)
TONGBAN_SMS_CODE_ATTEMPTS = env_int("TONGBAN_SMS_CODE_ATTEMPTS", 5)
TONGBAN_SMS_RESEND_SECONDS = env_int("TONGBAN_SMS_RESEND_SECONDS", 60)
TONGBAN_SMS_DAILY_LIMIT = env_int("TONGBAN_SMS_DAILY_LIMIT", 10)
# Face check (L3 online): a class implementing accounts.identity.FaceCheck; none is shipped, so
# without one L3 is reached at a window only.
TONGBAN_FACE_CHECK = env("TONGBAN_FACE_CHECK", "")

OTP_TOTP_ISSUER = "tongban 通办"
# The admin site never shows a staff member's TOTP secret (nor its QR code) to anyone.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_THROTTLE_FACTOR = 1

SESSION_COOKIE_AGE = env_int("TONGBAN_SESSION_MINUTES", 30) * 60
# Idle timeout: tongban.core.middleware.SessionIdleMiddleware re-saves a session at most once a minute.
SESSION_SAVE_EVERY_REQUEST = False
# Sessions live in the database, so any number of app processes share them (and a logout ends a
# session everywhere at once).
SESSION_ENGINE = "tongban.core.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "tongban_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "tongban.web.views.csrf_failure"
HTTPS = env_bool("TONGBAN_HTTPS", False)
# The address citizens reach the site at: licence QR codes point at its verification page.
TONGBAN_PUBLIC_URL = env("TONGBAN_PUBLIC_URL", "http://localhost:8000") or "http://localhost:8000"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
TONGBAN_BEHIND_PROXY = env_bool("TONGBAN_BEHIND_PROXY")
# The reverse proxy's address, whose X-Forwarded-* headers the single-process server believes.
TONGBAN_TRUSTED_PROXY = env("TONGBAN_TRUSTED_PROXY", "127.0.0.1")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TONGBAN_BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- i18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "tongban_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env("TONGBAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static --------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the apps when collectstatic has not run

# --- cache ---------------------------------------------------------------------------------------
CACHE_URL = env("TONGBAN_CACHE_URL")
if CACHE_URL and CACHE_URL.startswith("redis://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate-limit counters (core.ratelimit) must be shared by every process that serves: Redis when there
# is one, else files under var/ (the processes of one `tongban serve`; increments are not atomic
# there, so concurrent requests may be under-counted by a few).
CACHES["ratelimit"] = (
    {**CACHES["default"], "KEY_PREFIX": "rl"}
    if CACHE_URL and CACHE_URL.startswith("redis://")
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "ratelimit"),
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
)
RATELIMIT_USE_CACHE = "ratelimit"


def _rate(group: str, default: str) -> str:
    return env(f"TONGBAN_RATE_{group.upper()}", default)


# Per client address, N/s, N/m, N/h or N/d (also N/10m); "off" turns a group off. Routes are
# "METHOD url-name", optionally "?action=…" for a page form with several buttons. Every attempt
# counts, whatever its outcome, before the view (or the CSRF check) runs.
TONGBAN_RATE_LIMITS = {
    "login": (_rate("login", "60/m"), ["POST accounts:login", "POST accounts:mfa_verify"]),
    "register": (_rate("register", "20/h"), ["POST accounts:register", "POST api:register_citizen"]),
    "sms": (_rate("sms", "30/h"), ["POST api:send_phone_code", "POST accounts:identity?action=send_code"]),
    "real_name": (
        _rate("real_name", "30/h"),
        ["POST api:verify_real_name", "POST accounts:identity?action=real_name"],
    ),
    "scan": (_rate("scan", "30/m"), ["POST licences:scan", "POST api:scan"]),
    "verify": (
        _rate("verify", "120/m"),
        [
            "GET licences:verify",
            "GET licences:verify_code",
            "GET licences:scan_link",
            "GET api:verify",
            "GET api:public_keys",
        ],
    ),
    "search": (_rate("search", "300/m"), ["GET api:search_catalogue", "GET catalog:portal"]),
    # 办件进度查询 asks for six characters of an identifier: few tries, so they cannot be guessed.
    "progress": (_rate("progress", "20/h"), ["POST cases:progress_lookup"]),
    "open311": (
        _rate("open311", "300/m"),
        [
            "GET open311:discovery",
            "GET open311:services",
            "GET open311:service_definition",
            "GET open311:requests",
            "POST open311:requests",
            "GET open311:request",
            "GET open311:token",
        ],
    ),
    # sensor systems post in bursts (a storm sets off many gauges); a replay costs a lookup only
    "city_events": (
        _rate("city_events", "600/m"),
        ["POST api:post_city_event", "GET api:post_city_event", "GET api:get_city_event_order"],
    ),
    "comment": (_rate("comment", "30/h"), ["POST programme:consultation_comment"]),
    "guide": (
        _rate("guide", "120/m"),
        ["GET api:guide_ask", "GET guide:assistant", "POST guide:open", "POST api:guide_record_click"],
    ),
}

# --- background jobs (Huey) ----------------------------------------------------------------------
# sqlite:///path (embedded default, no server), redis://host:port/db (production) or
# immediate:// (tasks run inline; tests).
QUEUE_URL = env("TONGBAN_QUEUE_URL", f"sqlite:///{VAR_DIR / 'queue.sqlite3'}")
if QUEUE_URL.startswith("redis://"):
    # At-least-once delivery with leases and dead letters instead of Huey's pop-and-run (core.queue).
    HUEY = {
        "huey_class": "tongban.core.queue.ReliableRedisHuey",
        "name": "tongban",
        "url": QUEUE_URL,
        "immediate": False,
        "utc": True,
        "lease_seconds": env_int("TONGBAN_QUEUE_LEASE_SECONDS", 30),
        "expire_time": env_int("TONGBAN_QUEUE_RESULT_SECONDS", 3600),
        "consumer": {"workers": env_int("TONGBAN_WORKERS", 4), "worker_type": "thread"},
    }
elif QUEUE_URL.startswith("immediate://"):
    HUEY = {"huey_class": "huey.MemoryHuey", "name": "tongban", "immediate": True, "utc": True}
elif QUEUE_URL.startswith("sqlite:///"):
    _queue_path = Path(QUEUE_URL.removeprefix("sqlite:///"))
    _queue_path.parent.mkdir(parents=True, exist_ok=True)
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "tongban",
        "filename": str(_queue_path),
        "immediate": False,
        "utc": True,
        "consumer": {"workers": env_int("TONGBAN_WORKERS", 2), "worker_type": "thread"},
    }
else:
    raise ImproperlyConfigured("TONGBAN_QUEUE_URL must start with sqlite:///, redis:// or immediate://")
# Nightly journal verification, local time.
AUDIT_VERIFY_CRON = {
    "hour": env("TONGBAN_AUDIT_VERIFY_HOUR", "2"),
    "minute": env("TONGBAN_AUDIT_VERIFY_MINUTE", "30"),
}

# /metrics: a bearer token, or else only these client addresses (not through a proxy); core.health.
TONGBAN_METRICS_TOKEN = env("TONGBAN_METRICS_TOKEN", "")
TONGBAN_METRICS_ALLOW = tuple(
    a.strip() for a in (env("TONGBAN_METRICS_ALLOW", "127.0.0.1,::1") or "").split(",") if a.strip()
)

# --- logging: request id on every line, never personal data --------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tongban.core.context.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": env("TONGBAN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "bm25s": {"level": "WARNING"},
    },
}

# --- tongban -------------------------------------------------------------------------------------
TONGBAN_SITE_NAME = _("tongban government services")
# What a government website must show in its footer (GB/T 政府网站发展指引): the site's 网站标识码, its
# ICP filing and the organiser (主办单位); set per deployment, shown only when set.
TONGBAN_SITE_CODE = env("TONGBAN_SITE_CODE", "")
TONGBAN_SITE_ICP = env("TONGBAN_SITE_ICP", "")
TONGBAN_SITE_ORGANISER = env("TONGBAN_SITE_ORGANISER", "")
TONGBAN_HOTLINE_NUMBER = env("TONGBAN_HOTLINE_NUMBER", "12345")
# City events: the hosts a posting system's callback URL (CloudEvents extension `callbackurl`) may
# name, comma-separated; the closing status is POSTed nowhere else (no callbacks when empty).
TONGBAN_HOTLINE_CALLBACK_HOSTS = [
    h.strip().lower() for h in (env("TONGBAN_HOTLINE_CALLBACK_HOSTS", "") or "").split(",") if h.strip()
]
TONGBAN_DEMO_PASSWORD = env("TONGBAN_DEMO_PASSWORD", "Tongban#2026")
# RYG thresholds (share of a limit used): green below, yellow at or above, red when overdue.
TONGBAN_YELLOW_AT = float(env("TONGBAN_YELLOW_AT", "0.8"))
# Reform programme office: a task is yellow when the share of its working days used runs this far
# ahead of the share done, red from the second figure (or when its deadline has passed).
TONGBAN_PROGRAMME_YELLOW_LAG = float(env("TONGBAN_PROGRAMME_YELLOW_LAG", "0.2"))
TONGBAN_PROGRAMME_RED_LAG = float(env("TONGBAN_PROGRAMME_RED_LAG", "0.5"))
# Where programme measures its KPI-bound tasks (programme never imports insight).
TONGBAN_PROGRAMME_KPI_SOURCE = "tongban.insight.programme_source"
TONGBAN_PROGRAMME_KPI_CRON = {"hour": "2", "minute": "30"}
# Weekly reports (周报) are due on this weekday (0 = Monday … 4 = Friday); owners are reminded on
# the working day before, by the daily job at this time.
TONGBAN_PROGRAMME_WEEKLY_DUE_WEEKDAY = env_int("TONGBAN_PROGRAMME_WEEKLY_DUE_WEEKDAY", 4)
TONGBAN_PROGRAMME_WEEKLY_CRON = {"hour": "9", "minute": "0"}
# Funds supervision: warn when more than SPENT_AT of a budget is paid while the project is less
# than DONE_BELOW done (shares, 0–1).
TONGBAN_PROGRAMME_FUNDS_SPENT_AT = float(env("TONGBAN_PROGRAMME_FUNDS_SPENT_AT", "0.9"))
TONGBAN_PROGRAMME_FUNDS_DONE_BELOW = float(env("TONGBAN_PROGRAMME_FUNDS_DONE_BELOW", "0.7"))
# Risk register: a likelihood × impact score from RED_AT is red, from YELLOW_AT yellow.
TONGBAN_PROGRAMME_RISK_RED_AT = env_int("TONGBAN_PROGRAMME_RISK_RED_AT", 15)
TONGBAN_PROGRAMME_RISK_YELLOW_AT = env_int("TONGBAN_PROGRAMME_RISK_YELLOW_AT", 8)
# Public consultation (意见征集): commenters are answered within these working days after the
# period closes (a complex draft gets the second figure); a period lasts at least MIN_DAYS days;
# one network address may comment anonymously this often a day on one consultation.
TONGBAN_CONSULTATION_FEEDBACK_DAYS = env_int("TONGBAN_CONSULTATION_FEEDBACK_DAYS", 15)
TONGBAN_CONSULTATION_COMPLEX_FEEDBACK_DAYS = env_int("TONGBAN_CONSULTATION_COMPLEX_FEEDBACK_DAYS", 30)
TONGBAN_CONSULTATION_MIN_DAYS = env_int("TONGBAN_CONSULTATION_MIN_DAYS", 7)
TONGBAN_CONSULTATION_ANONYMOUS_PER_DAY = env_int("TONGBAN_CONSULTATION_ANONYMOUS_PER_DAY", 5)
TONGBAN_CONSULTATION_REMINDER_CRON = {"hour": "8", "minute": "15"}
# How the kernel finds the caller of a request without importing accounts.
TONGBAN_ACTOR_RESOLVER = "tongban.accounts.actors.actor_for_request"
# Parallel audit chains: writers take a free one, so they do not queue behind one lock.
# SQLite has one writer at a time anyway; PostgreSQL benefits (docs/security.md has figures).
TONGBAN_AUDIT_CHAINS = env_int("TONGBAN_AUDIT_CHAINS", 1 if EMBEDDED else 8)
# Each journal verification appends an SM2-signed anchor to a monthly file here, outside the
# database; ship it where the database's administrators cannot write (docs/security.md §4).
TONGBAN_ANCHOR_DIR = Path(env("TONGBAN_ANCHOR_DIR", str(VAR_DIR / "anchors")))
# Also send each anchor to syslog: /dev/log, host[:port] (UDP) or tcp://host[:port].
TONGBAN_ANCHOR_SYSLOG = env("TONGBAN_ANCHOR_SYSLOG", "")


def _syslog_handler(address: str) -> dict:
    import socket

    handler = {"class": "logging.handlers.SysLogHandler", "formatter": "anchor"}
    if address.startswith("/"):
        return {**handler, "address": address}
    stream = address.startswith("tcp://")
    host, _sep, port = address.removeprefix("tcp://").removeprefix("udp://").partition(":")
    return {
        **handler,
        "address": (host, int(port or 514)),
        "socktype": socket.SOCK_STREAM if stream else socket.SOCK_DGRAM,
    }


if TONGBAN_ANCHOR_SYSLOG:
    LOGGING["formatters"]["anchor"] = {"format": "tongban-anchor: %(message)s"}
    LOGGING["handlers"]["anchor_syslog"] = _syslog_handler(TONGBAN_ANCHOR_SYSLOG)
    LOGGING["loggers"]["tongban.anchors"] = {"handlers": ["anchor_syslog"], "level": "INFO"}

# --- case handling (DOMAIN.md defaults; each can be set in the environment) ----------------------
# Reminders (催办) at these shares of a step's limit; escalation to the section head when overdue.
TONGBAN_REMIND_AT = tuple(float(x) for x in env("TONGBAN_REMIND_AT", "0.5,0.8").split(","))
TONGBAN_SWEEP_MINUTES = env_int("TONGBAN_SWEEP_MINUTES", 10)
TONGBAN_SUPPLEMENT_NOTICE_DAYS = env_int("TONGBAN_SUPPLEMENT_NOTICE_DAYS", 5)  # 行政许可法 art. 32
TONGBAN_GAP_DAYS = env_int("TONGBAN_GAP_DAYS", 5)  # 容缺: working days to supply a missing material
TONGBAN_INSPECTION_DAYS = env_int("TONGBAN_INSPECTION_DAYS", 20)  # 告知承诺: 事后核查 due
TONGBAN_RECTIFICATION_DAYS = env_int("TONGBAN_RECTIFICATION_DAYS", 15)  # 差评整改
# Uploaded materials: per file, per application, count.
TONGBAN_UPLOAD_MAX_BYTES = env_int("TONGBAN_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
TONGBAN_UPLOAD_MAX_TOTAL_BYTES = env_int("TONGBAN_UPLOAD_MAX_TOTAL_BYTES", 100 * 1024 * 1024)
TONGBAN_UPLOAD_MAX_FILES = env_int("TONGBAN_UPLOAD_MAX_FILES", 30)
# 暂存: an application saved part-way is kept this many days after its last save, then purged
TONGBAN_DRAFT_DAYS = env_int("TONGBAN_DRAFT_DAYS", 30)
TONGBAN_DRAFTS_PER_ACCOUNT = env_int("TONGBAN_DRAFTS_PER_ACCOUNT", 20)
# 智能预审: uploaded scans are read by OCR in the job queue (cases.services.prechecks). Threads per
# worker process (add processes, not threads, to read more); images larger than the pixel limit
# and PDF pages after the page limit are not read.
TONGBAN_PRECHECK = env("TONGBAN_PRECHECK", "1") not in ("0", "false", "no")
TONGBAN_OCR_THREADS = env_int("TONGBAN_OCR_THREADS", 1)
TONGBAN_OCR_MAX_PIXELS = env_int("TONGBAN_OCR_MAX_PIXELS", 60_000_000)
TONGBAN_OCR_MAX_PAGES = env_int("TONGBAN_OCR_MAX_PAGES", 3)
# The public licence scan (扫码核验): an uploaded photo or PDF is decoded, so it is held tighter than
# a stored material. 24 million pixels is a 6000 × 4000 camera; decoding one takes up to ~100 MB.
TONGBAN_SCAN_MAX_BYTES = env_int("TONGBAN_SCAN_MAX_BYTES", 10 * 1024 * 1024)
TONGBAN_SCAN_MAX_PIXELS = env_int("TONGBAN_SCAN_MAX_PIXELS", 24_000_000)

"""Settings shared by every environment. Everything secret or site-specific comes
from the environment (django-environ); see README.md for the variables."""

from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    # Bottom to top (docs/architecture.md): each imports only from those above it in this list.
    "core",
    "accounts",
    "ethics",
    "intake",
    "counselors",
    "organisations",
    "billing",
    "packages",
    "listening",
    "groups",
    "matching",
    "insights",
    "oversight",
    "workflows",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) on every log line of the request and its tasks.
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (camera and microphone: the room only).
    "core.security.SecurityHeadersMiddleware",
    # A page whose database connection went away: 503 + Retry-After (above the session lookup).
    "core.db_unavailable.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: shows times in the signed-in user's zone (else the browser's `tz` cookie).
    "accounts.timezone_middleware.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A page's unhandled Conflict becomes the 409 page (the API answers its own).
    "core.pages.ConflictPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "matching.context_processors.surges",
                # The signed-in user's unread notices, for the header (lazy: no query unless shown).
                "accounts.context_processors.notices",
            ],
        },
    },
]

# --- PostgreSQL (always; there is no SQLite path) -------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL")}
_db = DATABASES["default"]
# A Unix-socket URL (postgres://user@/db?host=/path) arrives as OPTIONS["host"].
if not _db.get("HOST") and "host" in _db.get("OPTIONS", {}):
    _db["HOST"] = _db["OPTIONS"].pop("host")
# Django's built-in psycopg 3 pool: under ASGI persistent connections are not
# reused across requests, so a pool is what keeps connection set-up off every request.
if env.bool("DATABASE_POOL", default=True):
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": 10,
    }
_db["CONN_MAX_AGE"] = 0
# No JIT compilation: every query here is a short OLTP one, and once the planner's estimate
# passes jit_above_cost (the directory's free-time probe over 2,000 counselors) compiling
# took 12.6 of a query's 20.6 ms (issue 17's profile). A URL's own ?options= wins.
_db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (throttles), Celery broker, Channels layer --------------------
REDIS_URL = env("REDIS_URL")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="pianke")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
    }
}
if env("CHANNEL_LAYER", default="pubsub") == "pubsub":
    # Redis pub/sub (issue 17): a group send is one PUBLISH, and each process reads its
    # subscriptions from one connection, instead of channels_redis.core's four round trips
    # per group send (sorted sets and a Lua script per member inbox) plus a BZPOPMIN per
    # event received. No inbox, so no capacity to overflow; what a socket misses while it is
    # away it replays from the database (`after_seq`). The same server listed more than once
    # gives that many publish connections (each publishes under its own lock), with groups
    # spread over them by name.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.realtime.PubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL}] * env.int("CHANNEL_LAYER_SHARDS", default=4),
                "prefix": f"{CACHE_KEY_PREFIX}:asgi",
            },
        }
    }
else:  # CHANNEL_LAYER=core: the list-based layer, for comparison
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A process's sockets share one inbox; at the default capacity (100) a busy process
            # drops room frames silently, so give it room for bursts.
            # redis-py's async pool raises (not waits) past max_connections (default 100),
            # which a few hundred sockets sending at once exceed.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": 2000}],
                "prefix": f"{CACHE_KEY_PREFIX}:asgi",
                "capacity": 2000,
            },
        }
    }
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    # The session clock: dispatches warnings, ends and no-show checks falling due soon
    # (as eta tasks) and runs any that are overdue, so a lost task only delays an event.
    "session-clock-tick": {"task": "listening.tasks.session_clock_tick", "schedule": 15.0},
    # The group rooms' clock, the same way (groups.tasks).
    "groups-clock-tick": {"task": "groups.tasks.groups_clock_tick", "schedule": 15.0},
    # Packages past their end: unused sessions refunded (packages.services.package_expire).
    "packages-expire-due": {"task": "packages.tasks.packages_expire_due", "schedule": 3600.0},
    # The directory's precomputed free time: recompute what changed (triggers mark it stale;
    # the directory computes stale counselors live meanwhile) and roll the horizon forward.
    "free-time-sweep": {"task": "listening.tasks.free_time_sweep", "schedule": 15.0},
    "session-content-purge": {"task": "listening.tasks.session_content_purge", "schedule": 3600.0},
    # Crisis alerts: re-drive any notification or escalation step that is due (never lose one).
    "crisis-alerts-sweep": {"task": "ethics.tasks.alerts_sweep", "schedule": 30.0},
    "referrals-follow-up": {
        "task": "ethics.tasks.referrals_follow_up_due",
        "schedule": 3600.0,
    },  # 7-day check-ins
    # Talk-now matching: expire overdue offers, re-run rounds for waiting requests, close
    # requests past their deadline (the eta tasks do this at once; the sweep catches losses).
    "matching-sweep": {"task": "matching.tasks.matching_sweep", "schedule": 10.0},
    # Surge call-ups: re-drives any pending call a lost task left behind (the rows are the outbox).
    "surge-calls-sweep": {"task": "matching.tasks.surge_calls_sweep", "schedule": 30.0},
    # Session reminders (24 h and 1 h before): claim and send the due outbox rows, and take
    # back rows a dead worker left half-sent once their lease is over (listening.services).
    "reminders-send-due": {"task": "listening.tasks.reminders_send_due", "schedule": 30.0},
    # Insights: rebuild the anonymised facts nightly (19:30 UTC is 03:30 in Beijing, a quiet
    # hour); sample talk-now duty each minute for exposure fairness (insights/services.py).
    "insights-materialise": {
        "task": "insights.tasks.insights_materialise",
        "schedule": crontab(hour=19, minute=30),
    },
    "insights-duty-sample": {"task": "insights.tasks.duty_sample", "schedule": 60.0},
}

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
# A page that sends each role to its own start page (accounts.pages.start).
LOGIN_REDIRECT_URL = "accounts:start"

# --- I18n: stored in UTC, shown in the viewer's zone ----------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# The platform's own zone: insights count requests by weekday and hour in it.
PLATFORM_TIME_ZONE = env("PLATFORM_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Pianke <no-reply@pianke.local>")
# Seconds to wait for the mail server: a reminder holds its outbox row lock while it is handed
# over, so a hung server must not hold it (and a cancellation waiting for it) for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The file-based backend's folder (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
if env("EMAIL_FILE_PATH", default=""):
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH")
# Where the site is, for absolute links in e-mails (a reminder's link to the session, the
# one-click unsubscribe); no trailing slash.
PIANKE_SITE_URL = env("PIANKE_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then gets 401 with `WWW-Authenticate: Token`.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    # Whose address a throttle counts: REMOTE_ADDR with no proxy in front (0), or the address
    # the last of NUM_PROXIES proxies appended to X-Forwarded-For. Unset (DRF's default), the
    # client's own X-Forwarded-For would be trusted, and a new made-up value per request
    # would dodge the sign-up and token limits.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "register": env("THROTTLE_REGISTER", default="20/hour"),
        "token": env("THROTTLE_TOKEN", default="30/minute"),
        "directory": env("THROTTLE_DIRECTORY", default="1200/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pianke API",
    "DESCRIPTION": "Fragmented listening: 15-30 minute single-topic support sessions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers (400/401/403/404/409/413/415/429/503) of every operation.
    "DEFAULT_GENERATOR_CLASS": "core.schema.SchemaGenerator",
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "accounts.models.User.Role",
        "UserLanguageEnum": "accounts.models.User.Language",
        "RegisterRoleEnum": [("client", "Client"), ("counselor", "Counselor")],
        "SessionModeEnum": "core.sessions.SessionMode",
        "SessionLanguageEnum": "core.sessions.SessionLanguage",
        "ResourceKindEnum": "ethics.models.Resource.Kind",
        "EthicsFlagKindEnum": "ethics.models.EthicsFlag.Kind",
        "EthicsFlagStatusEnum": "ethics.models.EthicsFlag.Status",
        "ReferralStatusEnum": "ethics.models.Referral.Status",
        # Used by both the match request list and its detail serializer.
        "MatchRequestStatusEnum": "matching.models.MatchRequest.Status",
        # Toolkit items' kind, in counselors' and listening's serializers alike.
        "ToolkitItemKindEnum": "counselors.models.ToolkitItem.Kind",
        "OfferingStatusEnum": "counselors.models.Offering.Status",
        # Session lengths (bookings, offerings, packages) and group lengths share a field name.
        "SessionLengthEnum": [(15, 15), (30, 30)],
        "GroupLengthEnum": [(30, 30), (45, 45)],
    },
}

# --- Security headers (core.security) ----------------------------------------------
# True sends the Content-Security-Policy as report-only (browsers report, nothing is blocked).
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)

# --- Product settings -------------------------------------------------------------
PIANKE_MAX_SLOT_RANGE_DAYS = 31

# Session content (chat text, voice notes) is encrypted at rest with MultiFernet: the first
# key encrypts, every key decrypts, so a new key goes first and old ones stay until
# `manage.py reencrypt_session_content` has run. Comma-separated urlsafe base64 Fernet keys.
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS")
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
# The session room opens this long before the start.
SESSION_ROOM_OPENS_MINUTES = 5
SESSION_WARNING_SECONDS = 120
# A reminder claimed by a worker that then died is sent again after this long (its lease).
REMINDER_LEASE_SECONDS = env.int("REMINDER_LEASE_SECONDS", default=120)
# A reminder that failed this many times (the mail server refusing, a worker dying on it) is
# given up and logged as an error, so one bad row cannot hold the outbox up for ever.
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=10)
# A risk check asked for on an async thread (no counselor reading live) is due within this
# long; unanswered, it goes to the on-call queue.
RISK_CHECK_SLA_SECONDS = env.int("RISK_CHECK_SLA_SECONDS", default=4 * 3600)
# Async messages are allowed this long before and after a session (any mode).
ASYNC_MESSAGE_HOURS = 24
CHAT_MAX_CHARS = 4000
# Threads per server process for the session room's database work (see listening/consumers.py).
ROOM_DB_THREADS = env.int("ROOM_DB_THREADS", default=4)
CHAT_RATE_PER_SECOND = 10
# Signalling and typing frames: generous (ICE gathering sends bursts), but bounded.
SIGNAL_RATE_PER_SECOND = 50
VOICE_NOTE_MAX_BYTES = 5 * 1024 * 1024
VOICE_NOTE_MAX_SECONDS = 180
# Offerings (counselors/services.py): the price a counselor may ask for one, bounds included.
# Platform policy, not a counselor setting: a price outside is refused naming `price`.
OFFERING_PRICE_MIN = Decimal(env("OFFERING_PRICE_MIN", default="0"))
OFFERING_PRICE_MAX = Decimal(env("OFFERING_PRICE_MAX", default="2000"))
# Billing (billing/, docs/billing.md): the platform's share of every session's price, taken
# when the session is given (0 ≤ rate < 1; each charge keeps the rate it was made at), and
# the payment gateway by dotted path (billing.gateways; the development one settles at once).
PLATFORM_FEE_RATE = Decimal(env("PLATFORM_FEE_RATE", default="0.2"))
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="billing.gateways.DevelopmentGateway")
# Guided audio a counselor uploads for a toolkit item (checked like a voice note, longer).
TOOLKIT_AUDIO_MAX_BYTES = 8 * 1024 * 1024
TOOLKIT_AUDIO_MAX_SECONDS = 15 * 60
# WebRTC: media stays peer-to-peer in the browsers. ICE_SERVERS is a JSON list of
# RTCIceServer dicts without secrets (e.g. [{"urls": ["stun:turn.example.org:3478"]}]); the
# default is none, so a local demo uses host candidates only. With TURN_URLS and TURN_SECRET
# (coturn's static-auth-secret), each participant also gets short-lived TURN credentials.
ICE_SERVERS = env.json("ICE_SERVERS", default=[])
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SECRET = env("TURN_SECRET", default="")

# --- Matching (talk now) ---------------------------------------------------------
# Overrides of matching.scoring.Weights, e.g. {"exposure": 0.5}; unknown keys are an error.
MATCHING_WEIGHTS = env.json("MATCHING_WEIGHTS", default={})
# The optional note-to-bio fit (matching.semantic); "" turns it off.
MATCHING_NOTE_FIT = env("MATCHING_NOTE_FIT", default="matching.semantic.CharNgramFit")
MATCHING_PRESENCE_TTL_SECONDS = 60  # on duty without a heartbeat this long = off duty
MATCHING_OFFER_SECONDS = 45  # a counselor's time to accept an offer
MATCHING_TIMEOUTS_OFF_DUTY = 3  # offers in a row left to time out before going off duty
MATCHING_NO_MATCH_SECONDS = 180  # a talk-now request still waiting then ends as no_match
MATCHING_RETRY_SECONDS = 5  # re-run a round for a request nobody could take yet
MATCHING_ROUND_LIMIT = 500  # requests considered in one batch round
MATCHING_SUGGESTIONS = 5  # counselor/slot suggestions returned
MATCHING_BUSY_MARGIN_MINUTES = 5  # "about to start a session": starts within the talk + this
MATCHING_ESTIMATE_HISTORY_HOURS = 3  # the wait estimate learns from matches this recent
MATCHING_ALTERNATIVES_ABOVE_SECONDS = 180  # a wait estimate above this offers slots and async

# --- Logs (core.logging; docs/operations.md) ----------------------------------------
# Everything goes to stderr through one handler, each record with its request_id (and, in a
# Celery worker, task_id and task_name). LOG_FORMAT: "text" (readable, the default here, so
# in local development) or "json" (one object per line, production's default). Celery's
# worker and beat use this too (config/celery.py), not their own.
LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env("LOG_FORMAT", default="text")
# These loggers write what flows through them at DEBUG (websocket frames: uvicorn hands the
# websockets protocol its `uvicorn.error` logger; SQL with its parameters), which would put
# what people wrote into the logs: they stay at INFO when everything else is at DEBUG.
_LOG_QUIET = "INFO" if LOG_LEVEL == "DEBUG" else LOG_LEVEL
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logging.ContextFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        **{
            name: {"level": _LOG_QUIET}
            for name in ("websockets", "django.db.backends", "daphne.ws_protocol", "autobahn")
        },
        # uvicorn's command line gives its loggers handlers of their own that do not
        # propagate: send them through ours, so that they are JSON lines too.
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.error": {"handlers": [], "propagate": True, "level": _LOG_QUIET},
        "uvicorn.access": {"handlers": [], "propagate": True},
    },
}

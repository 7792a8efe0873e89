"""Settings for the web application, read from the environment at start-up.

- ``NEIGHBOURHOOD_DATA``: the data directory (the published refresh is read from it;
  the default SQLite database and collected static files live in it).
- ``NEIGHBOURHOOD_DATABASE_URL``: e.g. ``postgres://user@host:5432/name``; default
  SQLite in WAL mode at ``DATA/care.sqlite3``.
- ``NEIGHBOURHOOD_SECRET_KEY``: required in production; development makes one per data
  directory (``DATA/keys/django-secret.key``, mode 0600).
- ``NEIGHBOURHOOD_FRONTEND``: where ``npm ci`` put ``node_modules`` (default: the
  checkout's root).
- ``NEIGHBOURHOOD_ALLOWED_HOSTS``: comma-separated host names (default: loopback only).
- ``NEIGHBOURHOOD_TWO_FACTOR``: ``required`` (the default) or ``optional`` (the demo only):
  whether the roles that see identifiable data, and the admin, must sign in with a
  second factor (neighbourhood.care.twofactor).
- ``NEIGHBOURHOOD_IDLE_MINUTES``: sign out after this long without a request (default 30).
- ``NEIGHBOURHOOD_REVIEW_MONTHS``: months between care plan reviews by cohort, e.g.
  ``palliative=3,severe_frailty=6,complex_needs=6,default=12`` (those are the defaults).
- ``NEIGHBOURHOOD_AUDIT_KEY_FILE``: the key of the audit trail's MACs (default
  ``DATA/keys/audit-chain.key``, made on first use, mode 0600); keep it off the database's
  machine in production.
- ``NEIGHBOURHOOD_AUDIT_CHECKPOINTS``: the audit trail's append-only checkpoint file
  (default ``DATA/audit/checkpoints.log``); the IG lead copies it elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from neighbourhood.care.plans.rules import parse_months
from neighbourhood.care.secrets import secret_key
from neighbourhood.config import resolve_data_dir
from neighbourhood.errors import UserError

DATA_DIR = resolve_data_dir().resolve()
PACKAGE_DIR = Path(__file__).resolve().parent.parent
FRONTEND_DIR = Path(
    os.environ.get("NEIGHBOURHOOD_FRONTEND") or PACKAGE_DIR.parents[2] / "node_modules"
)
NHSUK_FRONTEND = FRONTEND_DIR / "nhsuk-frontend" / "dist" / "nhsuk"

DEBUG = os.environ.get("NEIGHBOURHOOD_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("NEIGHBOURHOOD_SECRET_KEY") or secret_key(DATA_DIR)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("NEIGHBOURHOOD_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "neighbourhood.care.teams",
    "neighbourhood.care.caseload",
    "neighbourhood.care.audit",
    "neighbourhood.care.people",
    "neighbourhood.care.plans",
    "neighbourhood.care.referrals",
    "neighbourhood.care.meetings",
    "neighbourhood.care.urgent",
    "neighbourhood.care.fhirapi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "neighbourhood.care.audit.privileges.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "neighbourhood.care.twofactor.SecondFactorMiddleware",
    "neighbourhood.care.access.SignInRequiredMiddleware",
    "neighbourhood.care.headers.PrivacyHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "neighbourhood.care.signin.StaffBackend",
]

ROOT_URLCONF = "neighbourhood.care.urls"
WSGI_APPLICATION = "neighbourhood.care.wsgi.application"

CONTEXT_PROCESSORS = [
    "django.template.context_processors.request",
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
    "neighbourhood.care.access.navigation",
]
TEMPLATES = [
    {  # our pages (ADR 14)
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [PACKAGE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "neighbourhood.care.jinja.environment",
            "context_processors": CONTEXT_PROCESSORS,
        },
    },
    {  # the Django admin's pages
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": CONTEXT_PROCESSORS},
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("NEIGHBOURHOOD_DATABASE_URL", "").strip()
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "care.sqlite3",
        # WAL lets readers carry on while one writer writes; IMMEDIATE takes the write
        # lock at the start of a transaction, so two writers queue instead of failing.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database()}

# The audit trail's key and anchor, outside the database (neighbourhood.care.audit.anchor).
AUDIT_KEY_FILE = os.environ.get("NEIGHBOURHOOD_AUDIT_KEY_FILE") or None
AUDIT_CHECKPOINTS = os.environ.get("NEIGHBOURHOOD_AUDIT_CHECKPOINTS") or None
AUDIT_CHECKPOINT_EVERY = 100  # entries
AUDIT_CHECKPOINT_SECONDS = 300
# Months between reviews of a care plan, by cohort (neighbourhood.care.plans.reviews).
REVIEW_MONTHS = parse_months(os.environ.get("NEIGHBOURHOOD_REVIEW_MONTHS", ""))
# Where partners reach the FHIR API: the addresses in subscription notifications.
FHIR_BASE_URL = os.environ.get("NEIGHBOURHOOD_FHIR_BASE_URL", "http://localhost:8000/fhir/")
BREAK_GLASS_MINUTES = 60  # how long a break-glass access to one person lasts
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "sign-in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "sign-in"

# Account lockout (django-axes): five failures for one username at one address lock that
# pair, for a wait that doubles with each further failure (neighbourhood.care.lockout).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = "neighbourhood.care.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # its log lines name the username tried; ours never do
# Locking a whole address would lock out every colleague behind one NHS gateway.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

SESSION_COOKIE_AGE = 8 * 60 * 60  # a working day, however active


def _minutes(variable: str, default: float) -> float:
    text = os.environ.get(variable) or str(default)
    try:
        minutes = float(text)
    except ValueError:
        minutes = -1.0
    if not 1 <= minutes <= 24 * 60:
        raise UserError(f"{variable} must be a number of minutes from 1 to 1440, not {text!r}")
    return minutes


IDLE_TIMEOUT_MINUTES = _minutes("NEIGHBOURHOOD_IDLE_MINUTES", 30)
TWO_FACTOR_REQUIRED = os.environ.get("NEIGHBOURHOOD_TWO_FACTOR", "required") != "optional"
OTP_TOTP_ISSUER = "Neighbourhood"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own files only, and our two inline scripts by
# a nonce drawn afresh for every response; the NHS.UK typeface from its own host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "https://assets.nhs.uk"],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [("nhsuk", NHSUK_FRONTEND), PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the finders when not collected

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "filters": {"without_paths": {"()": "neighbourhood.care.logs.WithoutPaths"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "axes": {"level": "ERROR"},
        # 4xx answers without the address (it holds person ids) or a traceback.
        "django.request": {"filters": ["without_paths"]},
        "django.security": {"filters": ["without_paths"]},
    },
}

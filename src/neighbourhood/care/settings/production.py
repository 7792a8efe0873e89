"""Production: behind TLS, a secret key from the environment, PostgreSQL expected.

``neighbourhood serve --production`` uses these; ``manage.py check --deploy`` is clean.
"""

from __future__ import annotations

import os

from neighbourhood.care.settings import *  # noqa: F403
from neighbourhood.errors import UserError

if not os.environ.get("NEIGHBOURHOOD_SECRET_KEY"):
    raise UserError(
        "production needs NEIGHBOURHOOD_SECRET_KEY: set it to a long random value "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
SECRET_KEY = os.environ["NEIGHBOURHOOD_SECRET_KEY"]
DEBUG = False
SECURE_SSL_REDIRECT = os.environ.get("NEIGHBOURHOOD_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

"""The WSGI application ``neighbourhood serve`` runs."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.umask(0o077)  # what the application writes is its owner's only, however it is served
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neighbourhood.care.settings")
application = get_wsgi_application()

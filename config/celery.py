"""Celery app: `celery -A config worker` / `celery -A config beat`."""

import os

from celery import Celery

# Production unless told otherwise: a deployment that forgets the variable must not run in DEBUG.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("pianke")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Tests: the same PostgreSQL and Redis code path as production (see scripts/devservices.py)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key")
os.environ.setdefault(
    "ENCRYPTION_KEYS", "q1_4GAczdPVM1IvGj6gFtWRdklcqRN-IR6si_4GygfI="
)  # tests only
os.environ.setdefault("DEBUG", "false")

from .base import *
from .base import REST_FRAMEWORK, env

# Each pytest-xdist worker gets its own cache/channel namespace on the shared Redis.
CACHE_KEY_PREFIX = f"pianke-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
CACHES["default"]["KEY_PREFIX"] = CACHE_KEY_PREFIX
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{CACHE_KEY_PREFIX}:asgi"
MEDIA_ROOT = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{CACHE_KEY_PREFIX}-media")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# locmem in-process; a worker started as a subprocess by a test is given a file-based backend
# (with EMAIL_FILE_PATH) through this test-only variable, so its e-mails can be counted.
EMAIL_BACKEND = env(
    "PIANKE_TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "register": "10000/minute",
        "token": "10000/minute",
        "directory": "10000/minute",
    },
}
# Eager Celery for service-level tests; tests of asynchronous behaviour start a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# pytest-xdist workers share one Redis: give each its own Celery queue so a real worker
# started by one test process never takes another's tasks.
CELERY_TASK_DEFAULT_QUEUE = f"{CACHE_KEY_PREFIX}-celery"
# The end-to-end server runs with DEBUG off and no collectstatic: serve from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

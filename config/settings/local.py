"""Development: `make run`. DEBUG on, a fixed development secret unless one is set."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403

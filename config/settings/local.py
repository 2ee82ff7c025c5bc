"""Development: `make run`. DEBUG on, a fixed development secret unless one is set."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
os.environ.setdefault(
    "ENCRYPTION_KEYS", "KGmkKos2RO2XvZ-rGU5H-hDBt883zd9GmQIwbE_i78Q="
)  # development only
os.environ.setdefault("DEBUG", "true")

from .base import *

"""Settings for the bare-DRF floor that `bench smoke` compares the booking API with: the
project's settings (same middleware, database pool, token authentication), but a URL
configuration with one endpoint, `bench/drf_floor_urls.py`."""

from config.settings.local import *

ROOT_URLCONF = "bench.drf_floor_urls"

"""Health endpoints for load balancers and orchestrators (docs/operations.md):

- `/healthz/` (liveness and dependencies): the database answers `SELECT 1` and Redis answers
  `PING`. 200 `{"status": "ok", "checks": {"database": "ok", "redis": "ok"}}`, else 503 with
  the failing check as "error". The reason is logged, never returned (it may name hosts).
- `/readyz/` (readiness): every migration on disk is applied. 503 `{"status": "migrating"}`
  with the number of unapplied migrations while there are any (a new release's web process
  waiting for `manage.py migrate`), 200 once there are none; a ready process stays ready, so
  later probes cost nothing.

Both are plain Django views: no authentication, no session read or written, no DRF, so no
throttle applies; GET and HEAD only. Production's HTTPS redirect exempts them
(SECURE_REDIRECT_EXEMPT), so a load balancer's plain-HTTP probe gets the answer itself."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# A probe must answer well inside the balancer's own timeout (usually a few seconds).
REDIS_TIMEOUT_SECONDS = 2.0

_redis_client: redis.Redis | None = None
_ready = False


def _redis() -> redis.Redis:
    # One client (with its connection pool) per process: a probe every few seconds must not
    # open a new connection each time.
    global _redis_client
    if _redis_client is None:
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
    return _redis_client


def database_check() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("health: the database did not answer", exc_info=True)
        return False
    return True


def redis_check() -> bool:
    try:
        _redis().ping()
    except Exception:
        logger.warning("health: Redis did not answer", exc_info=True)
        return False
    return True


def migrations_unapplied() -> int:
    """How many migrations on disk the database has not applied (reads every migration file:
    call it only until it first answers 0)."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@never_cache
@require_safe
def healthz(request):
    checks = {
        "database": "ok" if database_check() else "error",
        "redis": "ok" if redis_check() else "error",
    }
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )


@never_cache
@require_safe
def readyz(request):
    global _ready
    if not _ready:
        try:
            unapplied = migrations_unapplied()
        except Exception:
            logger.warning("ready: could not read the migration state", exc_info=True)
            return JsonResponse({"status": "error", "checks": {"database": "error"}}, status=503)
        if unapplied:
            return JsonResponse(
                {"status": "migrating", "unapplied_migrations": unapplied}, status=503
            )
        _ready = True
    return JsonResponse({"status": "ok", "checks": {"migrations": "ok"}})

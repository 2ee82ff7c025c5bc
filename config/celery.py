"""Celery app: `celery -A config worker` / `celery -A config beat`.

Logs: the worker and beat use settings.LOGGING (JSON lines in production, core.logging)
instead of configuring their own, and each task's lines carry the request id of the HTTP
request that enqueued it: `before_task_publish` writes the current one into the message's
headers, and the worker sets it around the task (`task_prerun` / `task_postrun`). A task
enqueued by a task inherits it the same way."""

import logging
import logging.config
import os

from celery import Celery, signals
from django.conf import settings

from core.logging import request_id_get, request_id_valid, request_id_var

# Production unless told otherwise: a deployment that forgets the variable must not run in DEBUG.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("pianke")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the request id (a custom header: Celery passes it through,
# and the worker shows it in task.request.headers).
REQUEST_ID_HEADER = "pianke_request_id"


@signals.setup_logging.connect
def logging_setup(loglevel=None, **kwargs):
    """Connected, so Celery leaves the root logger alone (it would otherwise replace our
    handler with its own text format): settings.LOGGING applies, at LOG_LEVEL, and the
    command line's `--loglevel` sets the level of Celery's own loggers only."""
    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


@signals.before_task_publish.connect
def request_id_publish(headers=None, **kwargs):
    """Runs in the process that enqueues (with protocol 2, `headers` is the message's own
    header dict, which may be changed here). Eager tasks are not published: they run in the
    caller's context and see its request id directly."""
    request_id = request_id_get()
    if request_id is not None and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


_tokens: dict[str, object] = {}


@signals.task_prerun.connect
def request_id_task_start(task_id=None, task=None, **kwargs):
    request_id = (task.request.headers or {}).get(REQUEST_ID_HEADER) if task else None
    if request_id_valid(request_id):
        # Keyed by task id: prerun and postrun of one task run in the same thread, one after
        # the other, but an eager task can run inside another task.
        _tokens[task_id] = request_id_var.set(request_id)


@signals.task_postrun.connect
def request_id_task_end(task_id=None, **kwargs):
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)

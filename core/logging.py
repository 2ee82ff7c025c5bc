"""Structured logs: one JSON object per line, each carrying the id of the request it belongs
to, from the web process and from Celery alike (settings.LOGGING uses these).

- `request_id_var` holds the current request id: set by `core.request_id.RequestIdMiddleware`
  for an HTTP request, and in a Celery worker for the duration of a task that was enqueued
  during one (config/celery.py carries it in the task message's headers).
- `ContextFilter` copies it onto every record, with the running Celery task's id and name,
  so that any formatter can use `%(request_id)s`, `%(task_id)s` and `%(task_name)s`.
- `JsonFormatter` writes the record as a JSON line: time (UTC, ISO 8601), level, logger,
  message, request_id, task_id, task_name, and the traceback when there is one.

What is logged is ids and events, never what people wrote: no message text, notes or health
answers go into a log message (tests/ops/test_log_secrecy.py checks a whole flow for it).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re

from celery import current_task

# Short and plain, so a header from outside cannot forge log lines or grow them without bound.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pianke_request_id", default=None
)


def request_id_valid(value: str | None) -> bool:
    return bool(value) and REQUEST_ID_PATTERN.fullmatch(value) is not None


def request_id_get() -> str | None:
    """The current request id: the HTTP request's, or the one a running task was enqueued with."""
    return request_id_var.get()


def _current_task():
    # `current_task` is a proxy: falsy outside a task (and in a process that runs none).
    task = current_task._get_current_object()
    if task is None or task.request.id is None:
        return None
    return task


class ContextFilter(logging.Filter):
    """Adds request_id, task_id and task_name (None when there is none) to every record;
    never drops one. Attach it to the handlers, so records of every logger get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_get()
        if request_id is None:
            # Django logs a 4xx/5xx answer (`django.request`) once the middleware is done, so
            # the request's context is gone then; the record carries the request itself.
            request_id = getattr(getattr(record, "request", None), "request_id", None)
        record.request_id = request_id
        task = _current_task()
        record.task_id = task.request.id if task is not None else None
        record.task_name = task.name if task is not None else None
        _access_query_drop(record)
        return True


def _access_query_drop(record: logging.LogRecord) -> None:
    """uvicorn's access line without the query string: it can hold what someone typed (the
    admin's search box, `?q=` with a client's name) and tokens (a calendar feed's `?token=`)."""
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
        return
    if len(record.args) == 5 and isinstance(record.args[2], str) and "?" in record.args[2]:
        args = list(record.args)
        args[2] = args[2].split("?", 1)[0] + "?…"
        record.args = tuple(args)


class JsonFormatter(logging.Formatter):
    """One JSON object per line. The keys are fixed, so a log pipeline can index them."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        task_id = getattr(record, "task_id", None)
        if task_id is not None:
            entry["task_id"] = task_id
            entry["task_name"] = getattr(record, "task_name", None)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii keeps each entry one line of plain ASCII whatever the message holds.
        return json.dumps(entry, ensure_ascii=True, default=str)

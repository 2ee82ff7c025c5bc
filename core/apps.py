from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel every app builds on: domain errors, realtime group names and pushes,
    encryption at rest, the pure availability computation, session lengths and modes, and the
    page helpers. It imports no other app."""

    name = "core"
    verbose_name = "Kernel"

    def ready(self):
        # A library hook: Django's system checks register on import.
        from core import checks  # noqa: F401

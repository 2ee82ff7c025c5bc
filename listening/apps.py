from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "listening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from listening import checks  # noqa: F401  (registers the system checks)

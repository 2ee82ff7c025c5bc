from django.apps import AppConfig


class CounselorsConfig(AppConfig):
    name = "counselors"
    default_auto_field = "django.db.models.BigAutoField"

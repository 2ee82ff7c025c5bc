from django.apps import AppConfig


class MatchingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "matching"
    verbose_name = "Matching"

    def ready(self):
        # Connected here, once the app registry is ready (Django's documented place for it).
        from listening.signals import session_ended
        from matching import receivers

        session_ended.connect(receivers.counselor_free_again, dispatch_uid="matching.free_again")

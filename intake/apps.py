from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Consent to process health information, and the intake (PHQ-4, item 9, the topic).

    Its models stay in `accounts` (ConsentRecord, Intake: no migration moved them); the rules
    live here, above the safety kernel (an intake can raise a crisis alert)."""

    name = "intake"
    verbose_name = "Consent and intake"

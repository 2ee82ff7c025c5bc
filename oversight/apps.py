from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Oversight of the sessions: referrals, complaints, the staff review of ethics flags and
    suspension. It sits above the domains it acts on; its models live in `ethics` (no
    migration moved them)."""

    name = "oversight"
    verbose_name = "Oversight"

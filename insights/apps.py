from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """What the platform learns from its sessions without exposing anyone: counselors' own
    outcome figures and the staff's k-anonymous insights, read from aggregates that a nightly
    task materialises. It sits above the domains it reads (listening, matching, ethics)."""

    name = "insights"
    verbose_name = "Insights"

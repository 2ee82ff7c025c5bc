from django.apps import AppConfig


class EthicsConfig(AppConfig):
    """Safety and ethics: crisis detection (a pure function over text and the lexicon data
    files in ethics/lexicon/), crisis alerts and their escalation, the on-call rota, the
    resource directory and ethics flags."""

    name = "ethics"
    verbose_name = "Ethics and safety"

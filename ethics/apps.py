from django.apps import AppConfig


class EthicsConfig(AppConfig):
    """Safety screening of free text (crisis / suicide-risk detection). No models: the
    detector is a pure function over text and the lexicon data files in ethics/lexicon/."""

    name = "ethics"
    verbose_name = "Ethics and safety"

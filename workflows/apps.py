from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Cross-domain orchestrations, each written out as explicit calls in one atomic block:
    signing up, deleting an account, exporting a user's data. No models."""

    name = "workflows"
    verbose_name = "Workflows"

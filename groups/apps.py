from django.apps import AppConfig


class GroupsConfig(AppConfig):
    """Themed listening groups: a counselor, one shared topic, three to eight clients under
    pseudonyms, a short session in a room of its own."""

    name = "groups"
    verbose_name = "Group sessions"

from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    """Employers (EAP) and schools that sponsor sessions: their admins, how members join (a
    code or a verified e-mail domain), the allowance per member and quarter, and the
    k-anonymous usage their admins see. It knows no booking: listening claims and releases
    allowance through its services."""

    name = "organisations"
    verbose_name = "Organisations"

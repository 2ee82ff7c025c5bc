from django.apps import AppConfig


class PackagesConfig(AppConfig):
    """Preventive packages for a life stage ("first months as a parent": 4 × 30 minutes
    within 8 weeks): defined by a counselor or the platform, bought once, booked session by
    session. It sits above billing (a purchase is paid through the ledger) and below listening,
    whose booking services claim and return a purchase's sessions through its services."""

    name = "packages"
    verbose_name = "Packages"

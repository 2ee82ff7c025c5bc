"""Value formats of the personal data export (`GET me/export/`), shared by every app's exporter."""

EXPORT_FORMAT = "pianke-data-export/1"


def iso(value):
    return value.isoformat() if value is not None else None


def money(value):
    return str(value) if value is not None else None

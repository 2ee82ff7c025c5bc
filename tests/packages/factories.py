from decimal import Decimal

from packages.services import package_buy, package_create


def make_package(user, **overrides):
    """A package defined by `user` (a counselor's own, or staff's for the platform)."""
    fields = {
        "life_stage": "new_parent",
        "title_en": "First months as a parent",
        "sessions": 4,
        "duration_minutes": 30,
        "within_days": 56,
        "price": Decimal("400.00"),
    }
    fields.update(overrides)
    return package_create(user=user, **fields)


def bought(user, client, **overrides):
    return package_buy(client=client, package_id=make_package(user, **overrides).pk)

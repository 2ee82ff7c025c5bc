"""The "Pianke staff" group (accounts.services.staff_group_sync): view and change on every
model of the apps staff look after, delete only on the few listed, and brought up to date by
every `migrate` (accounts.receivers.staff_group_synced_after_migrate), not only when a staff
account is made."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.receivers import staff_group_synced_after_migrate
from accounts.services import STAFF_APPS, STAFF_GROUP, STAFF_MAY_DELETE, staff_group_sync

pytestmark = pytest.mark.django_db

NEW_APPS = ("organisations", "packages", "groups", "matching")


def _codenames(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _expected() -> set[str]:
    """What the group should hold, worked out from the models themselves."""
    expected = set()
    for app_label in STAFF_APPS:
        for model in apps.get_app_config(app_label).get_models():
            name = model._meta.model_name
            expected |= {f"{app_label}.{action}_{name}" for action in ("view", "add", "change")}
            if model._meta.label_lower in STAFF_MAY_DELETE:
                expected.add(f"{app_label}.delete_{name}")
    return expected


def test_staff_hold_view_and_change_on_organisations_packages_groups_and_matching():
    held = _codenames(staff_group_sync())
    for app_label in NEW_APPS:
        models = list(apps.get_app_config(app_label).get_models())
        assert models, app_label
        for model in models:
            for action in ("view", "change"):
                assert f"{app_label}.{action}_{model._meta.model_name}" in held


def test_staff_may_delete_only_the_listed_models():
    held = _codenames(staff_group_sync())
    deletable = {p for p in held if p.split(".")[1].startswith("delete_")}
    assert deletable == {
        f"{label.split('.')[0]}.delete_{label.split('.')[1]}" for label in STAFF_MAY_DELETE
    }
    for clinical in (
        "accounts.delete_user",
        "accounts.delete_intake",
        "accounts.delete_consentrecord",
        "listening.delete_booking",
        "listening.delete_sessionmessage",
        "listening.delete_feedback",
        "ethics.delete_crisisalert",
        "ethics.delete_referral",
        "ethics.delete_ethicsflag",
        "billing.delete_entry",
        "matching.delete_matchrequest",
        "groups.delete_groupsession",
        "groups.delete_groupmessage",
    ):
        assert clinical not in held


def test_the_group_holds_exactly_the_expected_permissions_and_nothing_of_django():
    held = _codenames(staff_group_sync())
    assert held == _expected()
    assert not {p for p in held if p.split(".")[0] in ("auth", "contenttypes", "sessions")}


def test_the_migrations_made_the_group():
    """The test database was made by `migrate`, whose post_migrate ran the sync: the group is
    there, up to date, before anyone made a staff account."""
    group = Group.objects.get(name=STAFF_GROUP)
    assert _codenames(group) == _expected()


def _stale_group() -> Group:
    """A group as an older release left it: a delete permission since taken away, and no
    permission on the apps added since."""
    group = staff_group_sync()
    group.permissions.remove(*Permission.objects.filter(content_type__app_label__in=NEW_APPS))
    group.permissions.add(Permission.objects.get(codename="delete_booking"))
    assert "listening.delete_booking" in _codenames(group)
    return group


def _last_app():
    return [c for c in apps.get_app_configs() if c.models_module][-1]


def test_the_post_migrate_receiver_brings_a_stale_group_up_to_date():
    group = _stale_group()
    # post_migrate is sent once per app: the receiver waits for the last one, when every
    # app's permissions exist.
    staff_group_synced_after_migrate(sender=apps.get_app_config("accounts"), apps=apps)
    assert "listening.delete_booking" in _codenames(group)
    staff_group_synced_after_migrate(sender=_last_app(), apps=apps)
    assert _codenames(group) == _expected()


def test_migrate_brings_a_stale_group_up_to_date():
    group = _stale_group()
    call_command("migrate", verbosity=0, interactive=False)
    assert _codenames(group) == _expected()


def test_the_sync_is_idempotent_and_cheap():
    staff_group_sync()
    with CaptureQueriesContext(connection) as queries:
        group = staff_group_sync()
    assert _codenames(group) == _expected()
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "DELETE"))]
    assert len(queries) <= 6
    assert Group.objects.filter(name=STAFF_GROUP).count() == 1


@pytest.mark.django_db(transaction=True)
def test_flush_leaves_the_group_in_place():
    """`flush` (and so every transactional test's teardown) sends post_migrate without the
    migration state's `apps`: the receiver falls back to the registry, as Django's own do."""
    call_command("flush", verbosity=0, interactive=False)
    assert _codenames(Group.objects.get(name=STAFF_GROUP)) == _expected()

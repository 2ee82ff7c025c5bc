"""Packages through packages.services against PostgreSQL: defining, buying, claiming and
returning sessions, expiry with the ledger's refund."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing.models import Account, Entry
from billing.services import package_credit_left
from core.exceptions import Conflict
from packages import services
from packages.models import Package, PackagePurchase
from tests.factories import ClientFactory, CounselorProfileFactory, StaffFactory
from tests.packages.factories import bought, make_package

pytestmark = pytest.mark.django_db

SOON = timezone.now() + dt.timedelta(days=3)


def claim(purchase, *, counselor_id, start=None, minutes=30):
    return services.package_session_claim(
        client=purchase.client,
        purchase_id=purchase.pk,
        counselor_id=counselor_id,
        duration_minutes=minutes,
        start=start or timezone.now() + dt.timedelta(days=3),
    )


def test_staff_define_a_platform_package_and_counselors_their_own(counselor, staff_user):
    platform = make_package(staff_user)
    own = make_package(counselor.user)
    assert (platform.counselor, own.counselor) == (None, counselor)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sessions", 1),
        ("sessions", 13),
        ("duration_minutes", 45),
        ("within_days", 3),
        ("price", Decimal(0)),
        ("life_stage", "midlife"),
        ("title_en", ""),
    ],
)
def test_bad_package_input_names_the_field_and_saves_nothing(counselor, field, value):
    with pytest.raises(ValidationError) as err:
        make_package(counselor.user, **{field: value})
    assert field in err.value.error_dict
    assert not Package.objects.filter(counselor=counselor).exists()


def test_a_client_cannot_define_a_package(client_user):
    with pytest.raises(PermissionDenied):
        make_package(client_user)


def test_buying_copies_the_terms_and_holds_the_price_as_credit(counselor, client_user):
    purchase = bought(counselor.user, client_user)
    assert (purchase.sessions_total, purchase.sessions_left, purchase.price_paid) == (
        4,
        4,
        Decimal("400.00"),
    )
    assert purchase.expires_at - purchase.purchased_at == dt.timedelta(days=56)
    assert package_credit_left(purchase_id=purchase.pk) == Decimal("400.00")


def test_buying_the_same_package_twice_with_sessions_left_is_a_409(counselor, client_user):
    purchase = bought(counselor.user, client_user)
    with pytest.raises(Conflict) as err:
        services.package_buy(client=client_user, package_id=purchase.package_id)
    assert err.value.code == "already_bought"


def test_a_withdrawn_package_cannot_be_bought(counselor, client_user):
    package = make_package(counselor.user)
    services.package_withdraw(user=counselor.user, package_id=package.pk)
    with pytest.raises(Conflict) as err:
        services.package_buy(client=client_user, package_id=package.pk)
    assert err.value.code == "package_unavailable"


def test_another_counselor_cannot_withdraw_the_package(counselor, other_counselor):
    package = make_package(counselor.user)
    with pytest.raises((Package.DoesNotExist, PermissionDenied)):
        services.package_withdraw(user=other_counselor.user, package_id=package.pk)


def test_a_claim_counts_a_session_and_a_return_gives_it_back(counselor, client_user):
    purchase = bought(counselor.user, client_user)
    claimed = claim(purchase, counselor_id=counselor.pk)
    assert claimed.sessions_left == 3
    services.package_session_return(purchase_id=purchase.pk)
    assert PackagePurchase.objects.get(pk=purchase.pk).sessions_left == 4


def test_a_counselors_package_is_only_booked_with_them(counselor, other_counselor, client_user):
    purchase = bought(counselor.user, client_user)
    with pytest.raises(ValidationError) as err:
        claim(purchase, counselor_id=other_counselor.pk)
    assert "counselor" in err.value.error_dict


def test_a_platform_package_is_booked_with_any_counselor(staff_user, other_counselor, client_user):
    purchase = bought(staff_user, client_user)
    assert claim(purchase, counselor_id=other_counselor.pk).sessions_used == 1


def test_a_session_of_another_length_is_refused(counselor, client_user):
    purchase = bought(counselor.user, client_user)
    with pytest.raises(ValidationError) as err:
        claim(purchase, counselor_id=counselor.pk, minutes=15)
    assert "duration_minutes" in err.value.error_dict


def test_a_session_after_the_package_ends_is_refused(counselor, client_user):
    purchase = bought(counselor.user, client_user, within_days=7)
    with pytest.raises(Conflict) as err:
        claim(purchase, counselor_id=counselor.pk, start=timezone.now() + dt.timedelta(days=8))
    assert err.value.code == "package_expired"


def test_someone_elses_purchase_is_a_400_on_package(counselor, client_user, other_client_user):
    purchase = bought(counselor.user, client_user)
    with pytest.raises(ValidationError) as err:
        services.package_session_claim(
            client=other_client_user,
            purchase_id=purchase.pk,
            counselor_id=counselor.pk,
            duration_minutes=30,
            start=SOON,
        )
    assert "package" in err.value.error_dict


def test_a_used_up_package_is_a_409(counselor, client_user):
    purchase = bought(counselor.user, client_user, sessions=2)
    claim(purchase, counselor_id=counselor.pk)
    claim(purchase, counselor_id=counselor.pk)
    with pytest.raises(Conflict) as err:
        claim(purchase, counselor_id=counselor.pk)
    assert err.value.code == "package_used_up"


def test_the_database_refuses_more_sessions_used_than_bought(counselor, client_user):
    purchase = bought(counselor.user, client_user, sessions=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=3)


def test_expiry_refunds_the_credit_of_unbooked_sessions_once(counselor, client_user):
    purchase = bought(counselor.user, client_user, sessions=4, price=Decimal(400))
    PackagePurchase.objects.filter(pk=purchase.pk).update(
        purchased_at=timezone.now() - dt.timedelta(days=60),
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    assert services.packages_expire_due() == 1
    assert services.packages_expire_due() == 0
    assert package_credit_left(purchase_id=purchase.pk) == 0
    client_balance = sum(
        Entry.objects.filter(
            account__kind=Account.Kind.CLIENT, account__client_id=client_user.pk
        ).values_list("amount", flat=True)
    )
    assert PackagePurchase.objects.get(pk=purchase.pk).status == "expired"
    assert client_balance == 0  # charged 400, refunded 400


@pytest.mark.django_db(transaction=True)
def test_two_bookings_racing_for_the_last_session_get_it_once():
    counselor = CounselorProfileFactory()
    client = ClientFactory()
    purchase = bought(StaffFactory(), client, sessions=2)
    claim(purchase, counselor_id=counselor.pk)  # one left
    barrier = threading.Barrier(2)
    results = []

    def race():
        try:
            barrier.wait()
            with transaction.atomic():
                claim(purchase, counselor_id=counselor.pk)
            results.append("ok")
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "package_used_up"]
    assert PackagePurchase.objects.get(pk=purchase.pk).sessions_left == 0

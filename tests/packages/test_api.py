"""The packages API: on offer, defining one, buying one, a client's purchases."""

import pytest

from packages.models import Package, PackagePurchase
from tests.packages.factories import bought, make_package

pytestmark = pytest.mark.django_db

URL = "/api/v1/packages/"


def body(**overrides):
    data = {
        "life_stage": "retirement",
        "title_en": "Retirement",
        "sessions": 4,
        "duration_minutes": 30,
        "within_days": 60,
        "price": "480.00",
    }
    data.update(overrides)
    return data


def test_anyone_sees_the_packages_on_offer(anon, counselor):
    make_package(counselor.user, title_en="Parents")
    titles = [p["title"] for p in anon.get(URL).json()["results"]]
    assert "Parents" in titles and "First months as a parent" in titles  # and the platform's


def test_the_list_filters_by_counselor(anon, counselor):
    make_package(counselor.user, title_en="Parents")
    results = anon.get(URL, {"counselor": counselor.pk}).json()["results"]
    assert [p["title"] for p in results] == ["Parents"]


def test_a_bad_counselor_filter_is_a_400(anon):
    response = anon.get(URL, {"counselor": "abc"})
    assert response.status_code == 400 and "counselor" in response.json()


def test_a_counselor_defines_a_package(as_counselor, counselor):
    response = as_counselor.post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["counselor"] == counselor.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [("sessions", 20), ("duration_minutes", 45), ("price", "-3"), ("life_stage", "x")],
)
def test_bad_input_is_a_400_naming_the_field(as_counselor, counselor, field, value):
    response = as_counselor.post(URL, body(**{field: value}), format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Package.objects.filter(counselor=counselor).exists()


def test_a_client_buys_a_package_and_sees_the_sessions_left(as_client, client_user, counselor):
    package = make_package(counselor.user)
    response = as_client.post(f"{URL}{package.pk}/buy/")
    assert response.status_code == 201
    assert (response.json()["sessions_left"], response.json()["package"]["id"]) == (4, package.pk)
    [mine] = as_client.get(f"{URL}purchases/").json()["results"]
    assert mine["sessions_left"] == 4


def test_buying_twice_is_a_409(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user)
    response = as_client.post(f"{URL}{purchase.package_id}/buy/")
    assert response.status_code == 409 and response.json()["code"] == "already_bought"
    assert PackagePurchase.objects.filter(client=client_user).count() == 1


def test_a_withdrawn_package_is_not_on_offer(as_client, counselor):
    package = make_package(counselor.user)
    package.status = Package.Status.WITHDRAWN
    package.save()
    assert as_client.post(f"{URL}{package.pk}/buy/").status_code == 404


def test_clients_see_only_their_own_purchases(as_other_client, client_user, counselor):
    bought(counselor.user, client_user)
    assert as_other_client.get(f"{URL}purchases/").json()["results"] == []

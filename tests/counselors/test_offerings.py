from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Notice
from counselors.models import Offering, ToolkitItem
from counselors.selectors import offering_get_published
from tests.factories import CounselorProfileFactory, OfferingFactory, ToolkitItemFactory

pytestmark = pytest.mark.django_db

OWN = "/api/v1/counselors/me/offerings/"
PUBLIC = "/api/v1/offerings/"


def library_item(slug="emotion-diary") -> ToolkitItem:
    return ToolkitItem.objects.get(owner=None, slug=slug)


def offering_body(**overrides) -> dict:
    body = {
        "title_en": "Five-minute stress relief",
        "title_zh": "五分钟减压",
        "description_en": "A short talk and a breathing exercise.",
        "duration_minutes": 15,
        "modes": ["text", "voice"],
        "price": "45.00",
        "specialties": ["stress"],
        "items": [library_item().pk],
    }
    body.update(overrides)
    return body


def create(api, **overrides):
    return api.post(OWN, offering_body(**overrides), format="json")


def test_counselor_creates_a_published_offering(as_counselor, counselor):
    response = create(as_counselor)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "published"
    assert body["counselor"] == counselor.pk
    assert body["price"] == 45.0
    assert body["modes"] == ["text", "voice"]
    assert body["specialties"] == ["stress"]
    assert body["items"] == [{"id": library_item().pk, "kind": "diary", "title": "Emotion diary"}]


def test_offering_can_use_the_counselors_own_item(as_counselor, counselor):
    own = ToolkitItemFactory(owner=counselor)
    response = create(as_counselor, items=[own.pk])
    assert response.status_code == 201, response.json()
    assert [i["id"] for i in response.json()["items"]] == [own.pk]


@pytest.mark.parametrize("price", ["-1.00", "2000.01", "99999.00"])
def test_price_outside_the_platform_bounds_is_400_naming_price(as_counselor, price):
    response = create(as_counselor, price=price)
    assert response.status_code == 400
    assert "price" in response.json()
    assert not Offering.objects.exists()


@override_settings(OFFERING_PRICE_MIN=Decimal(10), OFFERING_PRICE_MAX=Decimal(100))
def test_price_bounds_come_from_settings(as_counselor):
    assert create(as_counselor, price="9.99").status_code == 400
    assert create(as_counselor, price="100.00").status_code == 201


def test_price_at_the_bounds_is_accepted(as_counselor):
    assert create(as_counselor, price="0.00").status_code == 201
    assert create(as_counselor, price="2000.00").status_code == 201


@pytest.mark.parametrize("duration", [0, 20, 45, 60])
def test_duration_other_than_15_or_30_is_400(as_counselor, duration):
    response = create(as_counselor, duration_minutes=duration)
    assert response.status_code == 400
    assert "duration_minutes" in response.json()


def test_unknown_mode_is_400(as_counselor):
    response = create(as_counselor, modes=["telepathy"])
    assert response.status_code == 400
    assert "modes" in response.json()


def test_no_mode_is_400(as_counselor):
    response = create(as_counselor, modes=[])
    assert response.status_code == 400
    assert "modes" in response.json()


def test_mode_the_profile_does_not_offer_is_400(as_counselor, counselor):
    counselor.modes = ["text"]
    counselor.save(update_fields=["modes"])
    response = create(as_counselor, modes=["text", "video"])
    assert response.status_code == 400
    assert "video" in response.json()["modes"][0]


def test_no_title_in_either_language_is_400(as_counselor):
    response = create(as_counselor, title_en="", title_zh="  ")
    assert response.status_code == 400
    assert "title_en" in response.json()


def test_a_chinese_title_alone_is_enough(as_counselor):
    response = create(as_counselor, title_en="", title_zh="五分钟减压")
    assert response.status_code == 201, response.json()


def test_another_counselors_item_is_400_naming_items(as_counselor, other_counselor):
    foreign = ToolkitItemFactory(owner=other_counselor)
    response = create(as_counselor, items=[foreign.pk])
    assert response.status_code == 400
    assert "items" in response.json()
    assert not Offering.objects.exists()


def test_unknown_specialty_is_400(as_counselor):
    response = create(as_counselor, specialties=["astrology"])
    assert response.status_code == 400
    assert "specialties" in response.json()
    assert not Offering.objects.exists()


def test_clients_may_not_create_offerings(as_client):
    assert create(as_client).status_code == 403


def test_anonymous_may_not_list_own_offerings(anon):
    assert anon.get(OWN).status_code == 401


def test_counselor_lists_all_their_own_offerings_with_status(as_counselor, counselor):
    OfferingFactory(counselor=counselor)
    OfferingFactory(counselor=counselor, status=Offering.Status.WITHDRAWN)
    OfferingFactory()  # someone else's
    body = as_counselor.get(OWN).json()
    assert body["count"] == 2
    assert sorted(o["status"] for o in body["results"]) == ["published", "withdrawn"]


def test_another_counselors_offering_is_404(as_counselor, other_counselor):
    theirs = OfferingFactory(counselor=other_counselor)
    assert as_counselor.get(f"{OWN}{theirs.pk}/").status_code == 404
    assert (
        as_counselor.patch(f"{OWN}{theirs.pk}/", {"price": "1"}, format="json").status_code == 404
    )
    assert as_counselor.delete(f"{OWN}{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.price) == ("published", Decimal(50))


def test_patch_changes_only_the_fields_given(as_counselor, counselor):
    offering = OfferingFactory(counselor=counselor)
    response = as_counselor.patch(
        f"{OWN}{offering.pk}/", {"price": "60.00", "duration_minutes": 30}, format="json"
    )
    assert response.status_code == 200, response.json()
    offering.refresh_from_db()
    assert (offering.price, offering.duration_minutes, offering.title_en) == (
        Decimal(60),
        30,
        "Stress relief",
    )


def test_patch_with_a_bad_price_changes_nothing(as_counselor, counselor):
    offering = OfferingFactory(counselor=counselor)
    response = as_counselor.patch(
        f"{OWN}{offering.pk}/", {"price": "5000", "title_en": "New"}, format="json"
    )
    assert response.status_code == 400
    assert "price" in response.json()
    offering.refresh_from_db()
    assert (offering.price, offering.title_en) == (Decimal(50), "Stress relief")


def test_public_list_shows_published_offerings_in_the_contract_shape(anon, counselor):
    offering = OfferingFactory(counselor=counselor, items=[library_item()])
    body = anon.get(PUBLIC, {"counselor": counselor.pk}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == offering.pk
    assert row["counselor_name"] == counselor.display_name
    assert {"title_en", "title_zh", "description", "duration_minutes", "modes", "price"} <= set(row)
    assert row["items"][0]["kind"] == "diary"


def test_public_list_filters_by_counselor(anon, counselor, other_counselor):
    OfferingFactory(counselor=counselor)
    OfferingFactory(counselor=other_counselor)
    assert anon.get(PUBLIC).json()["count"] == 2
    assert anon.get(PUBLIC, {"counselor": other_counselor.pk}).json()["count"] == 1


def test_bad_counselor_filter_is_400(anon):
    response = anon.get(PUBLIC, {"counselor": "abc"})
    assert response.status_code == 400
    assert "counselor" in response.json()


def test_withdrawn_offering_is_hidden_from_the_public(as_counselor, anon, counselor):
    offering = OfferingFactory(counselor=counselor)
    assert as_counselor.delete(f"{OWN}{offering.pk}/").status_code == 204
    offering.refresh_from_db()
    assert offering.status == Offering.Status.WITHDRAWN
    assert anon.get(PUBLIC).json()["count"] == 0
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/").json()["offerings"] == []
    assert "Stress relief" not in anon.get(f"/counselors/{counselor.pk}/").content.decode()


def test_withdrawing_twice_is_harmless(as_counselor, counselor):
    offering = OfferingFactory(counselor=counselor)
    as_counselor.delete(f"{OWN}{offering.pk}/")
    assert as_counselor.delete(f"{OWN}{offering.pk}/").status_code == 204


def test_a_withdrawn_offering_cannot_be_edited(as_counselor, counselor):
    offering = OfferingFactory(counselor=counselor, status=Offering.Status.WITHDRAWN)
    response = as_counselor.patch(f"{OWN}{offering.pk}/", {"price": "10"}, format="json")
    assert response.status_code == 409


def test_offerings_of_unlisted_counselors_are_hidden(anon, counselor):
    OfferingFactory(counselor=counselor)
    counselor.is_active = False
    counselor.save(update_fields=["is_active"])
    assert anon.get(PUBLIC).json()["count"] == 0


def test_counselor_detail_lists_published_offerings(anon, counselor):
    OfferingFactory(counselor=counselor)
    OfferingFactory(counselor=counselor, status=Offering.Status.WITHDRAWN, title_en="Old")
    body = anon.get(f"/api/v1/counselors/{counselor.pk}/").json()
    assert [o["title_en"] for o in body["offerings"]] == ["Stress relief"]


def test_profile_page_shows_offerings_with_a_book_link(anon, counselor):
    offering = OfferingFactory(counselor=counselor, items=[library_item()])
    page = anon.get(f"/counselors/{counselor.pk}/").content.decode()
    assert "Stress relief" in page
    assert "Emotion diary" in page
    assert f"offering={offering.pk}" in page


# --- unpublishing by staff ----------------------------------------------------------------------


def unpublish_url(offering) -> str:
    return f"{PUBLIC}{offering.pk}/unpublish/"


def test_staff_unpublish_with_a_reason_records_who_when_and_tells_the_counselor(
    as_staff, staff_user, counselor
):
    offering = OfferingFactory(counselor=counselor)
    response = as_staff.post(unpublish_url(offering), {"reason": "Promises a cure."}, format="json")
    assert response.status_code == 200, response.json()
    offering.refresh_from_db()
    assert offering.status == Offering.Status.UNPUBLISHED
    assert offering.unpublished_reason == "Promises a cure."
    assert offering.unpublished_by == staff_user
    assert offering.unpublished_at is not None
    notice = Notice.objects.get(user=counselor.user, kind="offering_unpublished")
    assert "Promises a cure." not in str(notice.params)


def test_unpublish_without_a_reason_is_400_and_changes_nothing(as_staff, counselor):
    offering = OfferingFactory(counselor=counselor)
    response = as_staff.post(unpublish_url(offering), {"reason": "   "}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    offering.refresh_from_db()
    assert offering.status == Offering.Status.PUBLISHED


def test_unpublished_offering_is_hidden_from_offerings_and_the_profile(as_staff, anon, counselor):
    offering = OfferingFactory(counselor=counselor)
    as_staff.post(unpublish_url(offering), {"reason": "Misleading."}, format="json")
    assert anon.get(PUBLIC).json()["count"] == 0
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/").json()["offerings"] == []
    assert "Stress relief" not in anon.get(f"/counselors/{counselor.pk}/").content.decode()


def test_counselor_sees_why_their_offering_was_unpublished(as_staff, as_counselor, counselor):
    offering = OfferingFactory(counselor=counselor)
    as_staff.post(unpublish_url(offering), {"reason": "Misleading."}, format="json")
    body = as_counselor.get(f"{OWN}{offering.pk}/").json()
    assert (body["status"], body["unpublished_reason"]) == ("unpublished", "Misleading.")


def test_counselor_cannot_withdraw_an_unpublished_offering(as_staff, as_counselor, counselor):
    offering = OfferingFactory(counselor=counselor)
    as_staff.post(unpublish_url(offering), {"reason": "Misleading."}, format="json")
    assert as_counselor.delete(f"{OWN}{offering.pk}/").status_code == 409


@pytest.mark.parametrize("persona", ["as_client", "as_counselor"])
def test_only_staff_may_unpublish(request, persona, counselor):
    offering = OfferingFactory(counselor=counselor)
    api = request.getfixturevalue(persona)
    assert api.post(unpublish_url(offering), {"reason": "x"}, format="json").status_code == 403


def test_unpublishing_twice_is_409(as_staff, counselor):
    offering = OfferingFactory(counselor=counselor)
    as_staff.post(unpublish_url(offering), {"reason": "Misleading."}, format="json")
    again = as_staff.post(unpublish_url(offering), {"reason": "Again."}, format="json")
    assert again.status_code == 409


def test_offering_get_published_refuses_withdrawn_ones(counselor):
    offering = OfferingFactory(counselor=counselor, status=Offering.Status.WITHDRAWN)
    with pytest.raises(Offering.DoesNotExist):
        offering_get_published(offering_id=offering.pk)


# --- the directory -------------------------------------------------------------------------------


def _listed_with_offering():
    profile = CounselorProfileFactory()
    OfferingFactory(counselor=profile, title_en=f"Offer of {profile.pk}")
    return profile


def _directory_queries(api) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/counselors/")
    assert response.status_code == 200
    return len(queries)


def test_directory_shows_published_offering_titles(anon, counselor):
    OfferingFactory(counselor=counselor, title_en="Exam nerves")
    OfferingFactory(counselor=counselor, title_en="Gone", status=Offering.Status.WITHDRAWN)
    page = anon.get("/counselors/").content.decode()
    assert "Exam nerves" in page
    assert "Gone" not in page


def test_directory_query_count_does_not_grow_with_offerings(anon):
    _listed_with_offering()
    anon.get("/counselors/")  # warm per-process reads
    one = _directory_queries(anon)
    for _ in range(5):
        _listed_with_offering()
    assert _directory_queries(anon) == one

"""The counselor's offering and toolkit pages and staff's unpublish page: the same services
as the API, through forms."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Notice
from counselors.models import Offering, ToolkitItem
from tests.factories import OfferingFactory, StaffFactory, ToolkitItemFactory

pytestmark = pytest.mark.django_db

OGG = Path(__file__).resolve().parents[2] / "counselors" / "library" / "box-breathing-en.ogg"


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def offering_form(**overrides) -> dict:
    data = {
        "title_en": "Sleep reset",
        "title_zh": "睡眠重启",
        "description_en": "Fifteen minutes before bed.",
        "duration_minutes": "15",
        "modes": ["text"],
        "price": "30",
        "specialties": ["sleep"],
        "items": [str(ToolkitItem.objects.get(owner=None, slug="box-breathing").pk)],
    }
    data.update(overrides)
    return data


def test_dashboard_links_offerings_and_toolkit(counselor):
    page = browser(counselor.user).get("/counselor/").content.decode()
    assert "/counselor/offerings/" in page
    assert "/counselor/toolkit/" in page


def test_counselor_publishes_an_offering_from_the_form(counselor):
    response = browser(counselor.user).post("/counselor/offerings/new/", offering_form())
    assert response.status_code == 302
    offering = Offering.objects.get(counselor=counselor)
    assert (offering.title_zh, offering.price, offering.status) == ("睡眠重启", 30, "published")
    assert [i.slug for i in offering.items.all()] == ["box-breathing"]


def test_form_shows_the_price_bound_error_and_saves_nothing(counselor):
    response = browser(counselor.user).post(
        "/counselor/offerings/new/", offering_form(price="99999")
    )
    assert response.status_code == 400
    assert "between" in response.content.decode()
    assert not Offering.objects.exists()


def test_counselor_edits_and_withdraws_from_the_pages(counselor):
    offering = OfferingFactory(counselor=counselor)
    c = browser(counselor.user)
    assert c.get(f"/counselor/offerings/{offering.pk}/").status_code == 200
    assert (
        c.post(f"/counselor/offerings/{offering.pk}/", offering_form(title_en="New")).status_code
        == 302
    )
    offering.refresh_from_db()
    assert offering.title_en == "New"
    c.post(f"/counselor/offerings/{offering.pk}/withdraw/")
    offering.refresh_from_db()
    assert offering.status == Offering.Status.WITHDRAWN


def test_offerings_page_shows_staffs_reason(counselor, staff_user):
    offering = OfferingFactory(counselor=counselor)
    browser(staff_user).post(
        f"/staff/offerings/{offering.pk}/unpublish/", {"reason": "Promises a cure."}
    )
    page = browser(counselor.user).get("/counselor/offerings/").content.decode()
    assert "Promises a cure." in page


def test_toolkit_item_fields_are_given_as_lines(counselor):
    response = browser(counselor.user).post(
        "/counselor/toolkit/new/",
        {
            "kind": "diary",
            "title_en": "Sleep diary",
            "lines": "Bedtime | 就寝时间 | text\nRested | 休息程度 | scale\n",
        },
    )
    assert response.status_code == 302
    item = ToolkitItem.objects.get(owner=counselor)
    assert [(f["label_en"], f["type"]) for f in item.fields] == [
        ("Bedtime", "text"),
        ("Rested", "scale"),
    ]


def test_bad_lines_are_shown_on_the_lines_field(counselor):
    response = browser(counselor.user).post(
        "/counselor/toolkit/new/",
        {"kind": "diary", "title_en": "Sleep diary", "lines": "Bedtime | 就寝 | colour"},
    )
    assert response.status_code == 400
    assert "text or scale" in response.content.decode()
    assert not ToolkitItem.objects.filter(owner=counselor).exists()


def test_guided_audio_is_uploaded_from_the_page(counselor):
    audio = SimpleUploadedFile("b.ogg", OGG.read_bytes(), content_type="audio/ogg")
    response = browser(counselor.user).post(
        "/counselor/toolkit/new/", {"kind": "audio", "title_en": "Breathe", "audio": audio}
    )
    assert response.status_code == 302
    assert ToolkitItem.objects.get(owner=counselor).audio_content_type == "audio/ogg"


def test_edit_page_prefills_the_lines(counselor):
    item = ToolkitItemFactory(owner=counselor)
    page = browser(counselor.user).get(f"/counselor/toolkit/{item.pk}/").content.decode()
    assert "What helped today? | 今天什么有帮助？" in page


def test_library_item_page_is_read_only(counselor):
    item = ToolkitItem.objects.get(owner=None, slug="cognitive-distortions")
    c = browser(counselor.user)
    page = c.get(f"/counselor/toolkit/{item.pk}/").content.decode()
    assert "Emotional reasoning" in page
    assert c.post(f"/counselor/toolkit/{item.pk}/", {"title_en": "x"}).status_code == 403


def test_staff_page_unpublishes_with_a_reason_and_tells_the_counselor(counselor, staff_user):
    offering = OfferingFactory(counselor=counselor)
    c = browser(staff_user)
    assert "Stress relief" in c.get("/staff/offerings/").content.decode()
    response = c.post(f"/staff/offerings/{offering.pk}/unpublish/", {"reason": "Misleading."})
    assert response.status_code == 302
    offering.refresh_from_db()
    assert (offering.status, offering.unpublished_by) == ("unpublished", staff_user)
    assert Notice.objects.filter(user=counselor.user, kind="offering_unpublished").exists()


def test_staff_page_without_a_reason_is_400(counselor, staff_user):
    offering = OfferingFactory(counselor=counselor)
    response = browser(staff_user).post(f"/staff/offerings/{offering.pk}/unpublish/", {})
    assert response.status_code == 400
    offering.refresh_from_db()
    assert offering.status == Offering.Status.PUBLISHED


def test_staff_nav_links_the_offerings_page(staff_user):
    assert "/staff/offerings/" in browser(staff_user).get("/staff/offerings/").content.decode()


def test_admin_unpublish_action_asks_for_a_reason_then_calls_the_service(counselor):
    admin_user = StaffFactory(username="root", is_superuser=True)
    offering = OfferingFactory(counselor=counselor)
    c = browser(admin_user)
    url = "/admin/counselors/offering/"
    picked = {"action": "unpublish", "_selected_action": [offering.pk]}
    asked = c.post(url, picked)
    assert asked.status_code == 200
    assert "Reason" in asked.content.decode()
    offering.refresh_from_db()
    assert offering.status == Offering.Status.PUBLISHED
    c.post(url, {**picked, "apply": "1", "reason": "Duplicate listing."})
    offering.refresh_from_db()
    assert (offering.status, offering.unpublished_reason) == ("unpublished", "Duplicate listing.")

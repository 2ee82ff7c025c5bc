"""The client's toolkit: entries in the tools of their sessions, encrypted, shared with that
session's counselor only; the counselor gives tools from the room."""

import pytest
from django.db import connection

from accounts.models import Notice
from counselors.models import ToolkitItem
from listening.models import ToolkitAssignment, ToolkitEntry
from tests.conftest import api_as
from tests.factories import (
    BookingFactory,
    OfferingFactory,
    StaffFactory,
    ToolkitItemFactory,
)
from workflows.services import user_data_export, user_delete

pytestmark = pytest.mark.django_db

DIARY_FIELDS = [
    {"key": "situation", "label_en": "Situation", "label_zh": "情境", "type": "text"},
    {"key": "intensity", "label_en": "Intensity", "label_zh": "强度", "type": "scale"},
]
SECRET = "my manager shouted at me in front of everyone"


@pytest.fixture
def diary(counselor):
    return ToolkitItemFactory(owner=counselor, slug="my-diary", kind="diary", fields=DIARY_FIELDS)


@pytest.fixture
def booking(client_user, counselor, diary):
    offering = OfferingFactory(counselor=counselor, items=[diary])
    return BookingFactory(client=client_user, counselor=counselor, offering=offering)


def write(api, item, booking=None, share=False, answers=None):
    body = {
        "item": item.pk,
        "answers": answers if answers is not None else {"situation": SECRET, "intensity": 7},
        "share": share,
    }
    if booking is not None:
        body["booking"] = booking.pk
    return api.post("/api/v1/toolkit/entries/", body, format="json")


def test_toolkit_lists_the_offerings_items_for_the_session(as_client, booking, diary):
    body = as_client.get("/api/v1/toolkit/").json()
    assert [s["booking"] for s in body["sessions"]] == [booking.pk]
    assert [i["id"] for i in body["sessions"][0]["items"]] == [diary.pk]


def test_client_writes_an_entry_and_reads_it_back(as_client, booking, diary):
    response = write(as_client, diary, booking)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["answers"] == {"situation": SECRET, "intensity": 7}
    assert body["shared"] is False
    listed = as_client.get("/api/v1/toolkit/entries/").json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]


def test_entry_is_encrypted_at_rest(as_client, booking, diary):
    entry_id = write(as_client, diary, booking).json()["id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM listening_toolkitentry WHERE id = %s", [entry_id])
        raw = bytes(cursor.fetchone()[0])
    assert SECRET.encode() not in raw
    assert b"situation" not in raw


def test_shared_entry_is_seen_by_that_sessions_counselor(as_client, as_counselor, booking, diary):
    entry_id = write(as_client, diary, booking, share=True).json()["id"]
    body = as_counselor.get(f"/api/v1/bookings/{booking.pk}/toolkit/").json()
    assert [e["id"] for e in body["entries"]] == [entry_id]
    assert body["entries"][0]["answers"]["situation"] == SECRET


def test_unshared_entry_is_not_seen_by_the_counselor(as_client, as_counselor, booking, diary):
    write(as_client, diary, booking, share=False)
    body = as_counselor.get(f"/api/v1/bookings/{booking.pk}/toolkit/").json()
    assert body["entries"] == []


def test_unsharing_hides_the_entry_at_once(as_client, as_counselor, booking, diary):
    entry_id = write(as_client, diary, booking, share=True).json()["id"]
    response = as_client.patch(
        f"/api/v1/toolkit/entries/{entry_id}/", {"share": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["shared"] is False
    assert as_counselor.get(f"/api/v1/bookings/{booking.pk}/toolkit/").json()["entries"] == []


def test_shared_entry_is_404_for_other_counselor_staff_and_other_client(
    as_client, as_other_counselor, as_other_client, booking, diary
):
    entry_id = write(as_client, diary, booking, share=True).json()["id"]
    staff = api_as(StaffFactory())
    for api in (as_other_counselor, staff):
        assert api.get(f"/api/v1/bookings/{booking.pk}/toolkit/").status_code in (403, 404)
    assert as_other_client.get(f"/api/v1/toolkit/entries/{entry_id}/").status_code == 404
    assert as_other_client.get(f"/api/v1/bookings/{booking.pk}/toolkit/").status_code == 404
    assert staff.get(f"/api/v1/toolkit/entries/{entry_id}/").status_code == 403
    for api in (as_other_counselor, as_other_client):
        listed = api.get("/api/v1/toolkit/entries/")
        assert SECRET not in listed.content.decode()


@pytest.mark.parametrize(
    "answers, problem",
    [
        ({"mood": "x"}, "Not a field"),
        ({"intensity": 11}, "0 to 10"),
        ({"intensity": "high"}, "0 to 10"),
        ({"situation": 5}, "write text"),
        ({"situation": "   "}, "at least one"),
        ({"situation": "x" * 2001}, "2000"),
        ([], "object"),
    ],
)
def test_bad_answers_get_400_and_store_nothing(as_client, booking, diary, answers, problem):
    response = write(as_client, diary, booking, answers=answers)
    assert response.status_code == 400
    assert problem in " ".join(response.json()["answers"])
    assert not ToolkitEntry.objects.exists()


def test_checklist_answers_are_ticks(as_client, client_user, counselor):
    checklist = ToolkitItemFactory(
        owner=None,
        slug="test-checklist",
        kind="checklist",
        fields=[{"key": "a", "label_en": "A", "explain_en": "why"}],
    )
    assert write(as_client, checklist, answers={"a": "yes"}).status_code == 400
    assert write(as_client, checklist, answers={"a": True}).status_code == 201


def test_item_not_in_the_clients_toolkit_gets_400(as_client, other_counselor):
    theirs = ToolkitItemFactory(owner=other_counselor, kind="diary", fields=DIARY_FIELDS)
    response = write(as_client, theirs)
    assert response.status_code == 400
    assert "item" in response.json()


def test_item_of_another_session_gets_400(as_client, client_user, counselor, booking):
    other_item = ToolkitItemFactory(owner=counselor, kind="diary", fields=DIARY_FIELDS)
    response = write(as_client, other_item, booking)
    assert response.status_code == 400
    assert "item" in response.json()


def test_someone_elses_booking_gets_400(as_other_client, booking, diary):
    response = write(as_other_client, diary, booking)
    assert response.status_code == 400
    assert "booking" in response.json()


def test_audio_items_have_nothing_to_fill(as_client, client_user, counselor):
    audio = ToolkitItemFactory(owner=None, slug="test-audio", kind="audio", fields=[])
    response = write(as_client, audio, answers={"x": "y"})
    assert response.status_code == 400
    assert "item" in response.json()


def test_a_library_entry_cannot_be_shared(as_client):
    library = ToolkitItem.objects.filter(owner=None, kind="diary").first() or ToolkitItemFactory(
        owner=None, slug="lib-diary", kind="diary", fields=DIARY_FIELDS
    )
    key = library.fields[0]["key"]
    response = write(as_client, library, share=True, answers={key: "a day"})
    assert response.status_code == 400
    assert "share" in response.json()


def test_counselor_cannot_write_entries(as_counselor, diary):
    assert write(as_counselor, diary).status_code == 403


def test_counselor_assigns_a_library_item_and_the_client_is_told(
    as_counselor, as_client, client_user, booking
):
    library = ToolkitItemFactory(owner=None, slug="lib-worksheet")
    response = as_counselor.post(
        f"/api/v1/bookings/{booking.pk}/assignments/",
        {"item": library.pk, "note": "Try this before next time"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    session = as_client.get("/api/v1/toolkit/").json()["sessions"][0]
    assert library.pk in [i["id"] for i in session["items"]]
    assert session["notes"][str(library.pk)] == "Try this before next time"
    assert Notice.objects.filter(user=client_user, kind="toolkit_assigned").exists()


def test_assigning_twice_gets_409(as_counselor, booking):
    library = ToolkitItemFactory(owner=None, slug="lib-twice")
    url = f"/api/v1/bookings/{booking.pk}/assignments/"
    assert as_counselor.post(url, {"item": library.pk}, format="json").status_code == 201
    response = as_counselor.post(url, {"item": library.pk}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_assigned"


def test_assigning_another_counselors_item_gets_400(as_counselor, other_counselor, booking):
    theirs = ToolkitItemFactory(owner=other_counselor)
    response = as_counselor.post(
        f"/api/v1/bookings/{booking.pk}/assignments/", {"item": theirs.pk}, format="json"
    )
    assert response.status_code == 400
    assert not ToolkitAssignment.objects.exists()


def test_assigning_in_someone_elses_session_gets_404(as_other_counselor, booking):
    library = ToolkitItemFactory(owner=None, slug="lib-other")
    response = as_other_counselor.post(
        f"/api/v1/bookings/{booking.pk}/assignments/", {"item": library.pk}, format="json"
    )
    assert response.status_code == 404


def test_entries_are_in_the_data_export_decrypted(as_client, client_user, booking, diary):
    write(as_client, diary, booking)
    exported = user_data_export(user=client_user)["toolkit_entries"]
    assert exported[0]["answers"]["situation"] == SECRET


def test_account_deletion_erases_entries(as_client, client_user, booking, diary):
    write(as_client, diary, booking, share=True)
    user_delete(user_id=client_user.pk)
    assert not ToolkitEntry.objects.exists()


# --- pages ---------------------------------------------------------------------------------


def test_toolkit_page_fills_and_shares_an_entry(client, client_user, booking, diary):
    client.force_login(client_user)
    page = client.get("/toolkit/")
    assert page.status_code == 200
    assert diary.title_en in page.content.decode()
    prefix = f"item{diary.pk}-{booking.pk}"
    response = client.post(
        "/toolkit/entries/new/",
        {
            "item_id": diary.pk,
            "booking_id": booking.pk,
            f"{prefix}-f_situation": SECRET,
            f"{prefix}-f_intensity": "6",
            f"{prefix}-share": "on",
        },
    )
    assert response.status_code == 302
    entry = ToolkitEntry.objects.get()
    assert entry.shared_at is not None
    assert SECRET in client.get("/toolkit/").content.decode()


def test_toolkit_page_shows_a_bad_entry_with_its_error(client, client_user, booking, diary):
    client.force_login(client_user)
    prefix = f"item{diary.pk}-{booking.pk}"
    response = client.post(
        "/toolkit/entries/new/",
        {"item_id": diary.pk, "booking_id": booking.pk, f"{prefix}-f_intensity": "12"},
    )
    assert response.status_code == 400
    assert not ToolkitEntry.objects.exists()


def test_room_shows_the_counselor_what_was_shared(client, as_client, booking, diary):
    write(as_client, diary, booking, share=True)
    client.force_login(booking.counselor.user)
    html = client.get(f"/sessions/{booking.pk}/").content.decode()
    assert SECRET in html


def test_room_does_not_show_the_counselor_an_unshared_entry(client, as_client, booking, diary):
    write(as_client, diary, booking, share=False)
    client.force_login(booking.counselor.user)
    html = client.get(f"/sessions/{booking.pk}/").content.decode()
    assert SECRET not in html


def test_room_assign_form_gives_the_client_a_tool(client, booking):
    library = ToolkitItemFactory(owner=None, slug="lib-room")
    client.force_login(booking.counselor.user)
    response = client.post(f"/sessions/{booking.pk}/assign/", {"item": library.pk, "note": ""})
    assert response.status_code == 302
    assert ToolkitAssignment.objects.filter(booking=booking, item=library).exists()

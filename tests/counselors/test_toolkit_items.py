import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from counselors.models import ToolkitItem
from tests.factories import OfferingFactory, ToolkitItemFactory

pytestmark = pytest.mark.django_db

OWN = "/api/v1/counselors/me/toolkit-items/"
PUBLIC = "/api/v1/toolkits/"
OGG = Path(__file__).resolve().parents[2] / "counselors" / "library" / "box-breathing-en.ogg"

WORKSHEET = [{"label_en": "What went well?", "label_zh": "什么进展顺利？"}]


def create(api, **overrides):
    body = {"kind": "worksheet", "title_en": "Three good things", "fields": WORKSHEET}
    body.update(overrides)
    return api.post(OWN, body, format="json")


def ogg_upload(name="breath.ogg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, OGG.read_bytes(), content_type="audio/ogg")


def test_counselor_creates_a_worksheet_with_keys_made_from_labels(as_counselor, counselor):
    response = create(as_counselor)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["library"] is False
    assert body["fields"] == [
        {"key": "what-went-well", "label_en": "What went well?", "label_zh": "什么进展顺利？"}
    ]
    assert ToolkitItem.objects.get(pk=body["id"]).owner == counselor


def test_diary_accepts_text_and_scale_fields(as_counselor):
    fields = [
        {"key": "mood", "label_en": "Mood", "type": "scale"},
        {"key": "note", "label_en": "Note", "type": "text"},
    ]
    response = create(as_counselor, kind="diary", fields=fields)
    assert response.status_code == 201, response.json()
    assert [f["type"] for f in response.json()["fields"]] == ["scale", "text"]


def test_checklist_keeps_explanations(as_counselor):
    fields = [{"label_en": "Labelling", "explain_en": "One harsh word.", "explain_zh": "刻薄词"}]
    response = create(as_counselor, kind="checklist", fields=fields)
    assert response.status_code == 201, response.json()
    assert response.json()["fields"][0]["explain_en"] == "One harsh word."


@pytest.mark.parametrize(
    "kind,fields",
    [
        ("diary", [{"label_en": "Mood", "type": "colour"}]),
        ("diary", "not a list"),
        ("worksheet", []),
        ("worksheet", [{"label_en": ""}]),
        ("worksheet", ["just text"]),
        ("worksheet", [{"label_en": "Q", "colour": "red"}]),
        ("checklist", [{"label_en": 5}]),
        ("audio", [{"label_en": "x"}]),
    ],
)
def test_bad_fields_structure_is_400_naming_fields(as_counselor, kind, fields):
    response = create(as_counselor, kind=kind, fields=fields)
    assert response.status_code == 400
    assert "fields" in response.json()
    assert not ToolkitItem.objects.filter(owner__isnull=False).exists()


def test_no_title_is_400(as_counselor):
    response = create(as_counselor, title_en="", title_zh="")
    assert response.status_code == 400
    assert "title_en" in response.json()


def test_guided_audio_upload_is_checked_and_served_to_its_owner(as_counselor, anon):
    response = as_counselor.post(
        OWN,
        {"kind": "audio", "title_en": "My breathing", "audio": ogg_upload()},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["audio_content_type"] == "audio/ogg"
    assert body["audio_seconds"] > 10
    played = as_counselor.get(body["audio_url"])
    assert played.status_code == 200
    assert b"".join(played.streaming_content)[:4] == b"OggS"
    # not in a published offering: nobody else may hear it
    assert anon.get(body["audio_url"]).status_code == 404


def test_bad_audio_bytes_are_400_naming_audio(as_counselor):
    fake = SimpleUploadedFile("x.ogg", b"OggS not really audio", content_type="audio/ogg")
    response = as_counselor.post(
        OWN, {"kind": "audio", "title_en": "Breathing", "audio": fake}, format="multipart"
    )
    assert response.status_code == 400
    assert "audio" in response.json()
    assert not ToolkitItem.objects.filter(owner__isnull=False).exists()


def test_guided_audio_without_a_file_is_400(as_counselor):
    response = create(as_counselor, kind="audio", fields=[])
    assert response.status_code == 400
    assert "audio" in response.json()


def test_multipart_fields_are_given_as_json_text(as_counselor):
    response = as_counselor.post(
        OWN,
        {"kind": "worksheet", "title_en": "Q", "fields": json.dumps(WORKSHEET)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()


def test_counselor_lists_library_and_own_items_only(as_counselor, counselor, other_counselor):
    mine = ToolkitItemFactory(owner=counselor)
    ToolkitItemFactory(owner=other_counselor)
    body = as_counselor.get(OWN, {"page_size": 100}).json()
    ids = {row["id"] for row in body["results"]}
    library = set(ToolkitItem.objects.filter(owner=None).values_list("pk", flat=True))
    assert ids == library | {mine.pk}


def test_another_counselors_item_is_404(as_counselor, other_counselor):
    theirs = ToolkitItemFactory(owner=other_counselor)
    url = f"{OWN}{theirs.pk}/"
    assert as_counselor.get(url).status_code == 404
    assert as_counselor.patch(url, {"title_en": "Mine now"}, format="json").status_code == 404
    assert as_counselor.delete(url).status_code == 404
    assert ToolkitItem.objects.get(pk=theirs.pk).title_en != "Mine now"


def test_library_items_are_readable_but_not_changeable(as_counselor):
    item = ToolkitItem.objects.get(owner=None, slug="emotion-diary")
    url = f"{OWN}{item.pk}/"
    assert as_counselor.get(url).status_code == 200
    assert as_counselor.patch(url, {"title_en": "Mine"}, format="json").status_code == 403
    assert as_counselor.delete(url).status_code == 403
    item.refresh_from_db()
    assert item.title_en == "Emotion diary"


def test_patch_updates_fields_of_own_item(as_counselor, counselor):
    item = ToolkitItemFactory(owner=counselor)
    response = as_counselor.patch(
        f"{OWN}{item.pk}/", {"fields": [{"label_en": "New prompt"}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert item.fields[0]["label_en"] == "New prompt"


def test_patch_with_bad_fields_changes_nothing(as_counselor, counselor):
    item = ToolkitItemFactory(owner=counselor)
    before = item.fields
    response = as_counselor.patch(f"{OWN}{item.pk}/", {"fields": [{}]}, format="json")
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.fields == before


def test_delete_own_unused_item(as_counselor, counselor):
    item = ToolkitItemFactory(owner=counselor)
    assert as_counselor.delete(f"{OWN}{item.pk}/").status_code == 204
    assert not ToolkitItem.objects.filter(pk=item.pk).exists()


def test_delete_of_an_item_an_offering_uses_is_409(as_counselor, counselor):
    item = ToolkitItemFactory(owner=counselor)
    OfferingFactory(counselor=counselor, items=[item])
    response = as_counselor.delete(f"{OWN}{item.pk}/")
    assert response.status_code == 409
    assert ToolkitItem.objects.filter(pk=item.pk).exists()


def test_clients_may_not_manage_toolkit_items(as_client):
    assert as_client.get(OWN).status_code == 403
    assert create(as_client).status_code == 403


def test_public_toolkits_are_the_library_without_a_counselor(anon, counselor):
    ToolkitItemFactory(owner=counselor)
    body = anon.get(PUBLIC, {"page_size": 100}).json()
    assert {row["library"] for row in body["results"]} == {True}
    assert body["count"] == ToolkitItem.objects.filter(owner=None).count()


def test_public_toolkits_with_a_counselor_add_items_of_published_offerings(anon, counselor):
    used = ToolkitItemFactory(owner=counselor)
    ToolkitItemFactory(owner=counselor)  # in no offering: private
    withdrawn_only = ToolkitItemFactory(owner=counselor)
    OfferingFactory(counselor=counselor, items=[used])
    OfferingFactory(counselor=counselor, items=[withdrawn_only], status="withdrawn")
    body = anon.get(PUBLIC, {"counselor": counselor.pk, "page_size": 100}).json()
    own = [row["id"] for row in body["results"] if not row["library"]]
    assert own == [used.pk]
    assert {"fields", "body", "audio_url"} <= set(body["results"][0])


def test_library_audio_is_public(anon):
    item = ToolkitItem.objects.get(owner=None, slug="box-breathing")
    response = anon.get(f"/api/v1/toolkits/{item.pk}/audio/")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg"


def test_audio_of_a_non_audio_item_is_404(anon):
    item = ToolkitItem.objects.get(owner=None, slug="emotion-diary")
    assert anon.get(f"/api/v1/toolkits/{item.pk}/audio/").status_code == 404

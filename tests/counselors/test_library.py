import importlib

import pytest
from django.apps import apps
from django.core.files.storage import default_storage

from core.audio import audio_inspect
from counselors.models import ToolkitItem
from counselors.services import toolkit_fields_clean

pytestmark = pytest.mark.django_db

library = importlib.import_module("counselors.migrations.0007_starter_toolkit_library")


def test_the_starter_library_is_present_after_migrate():
    slugs = set(ToolkitItem.objects.filter(owner=None).values_list("slug", flat=True))
    assert {"emotion-diary", "cognitive-distortions", "grounding-5-4-3-2-1", "box-breathing"} <= (
        slugs
    )


def test_every_library_item_has_both_languages():
    for item in ToolkitItem.objects.filter(owner=None):
        assert item.title_en and item.title_zh, item.slug
        assert item.body_en and item.body_zh, item.slug
        for field in item.fields:
            assert field["label_en"] and field["label_zh"], (item.slug, field)


def test_emotion_diary_has_an_intensity_scale():
    diary = ToolkitItem.objects.get(owner=None, slug="emotion-diary")
    assert [f["key"] for f in diary.fields] == [
        "situation",
        "emotion",
        "intensity",
        "automatic-thought",
        "evidence-for",
        "evidence-against",
        "reframe",
    ]
    assert {f["key"]: f["type"] for f in diary.fields}["intensity"] == "scale"


def test_the_ten_distortions_each_have_explanations_in_both_languages():
    checklist = ToolkitItem.objects.get(owner=None, slug="cognitive-distortions")
    assert len(checklist.fields) == 10
    assert all(f["explain_en"] and f["explain_zh"] for f in checklist.fields)


def test_grounding_worksheet_counts_down_from_five_to_one():
    grounding = ToolkitItem.objects.get(owner=None, slug="grounding-5-4-3-2-1")
    assert [f["label_en"][0] for f in grounding.fields] == ["5", "4", "3", "2", "1"]


def test_library_fields_pass_the_same_structure_check_as_counselors_items():
    for item in ToolkitItem.objects.filter(owner=None):
        assert toolkit_fields_clean(kind=item.kind, fields=item.fields) == item.fields, item.slug


def test_box_breathing_audio_is_in_storage_small_and_passes_the_upload_check(settings):
    item = ToolkitItem.objects.get(owner=None, slug="box-breathing")
    assert default_storage.exists(item.audio.name)
    assert item.audio.size < 400 * 1024
    with item.audio.open("rb") as audio:
        checked = audio_inspect(
            audio,
            max_bytes=settings.TOOLKIT_AUDIO_MAX_BYTES,
            max_seconds=settings.TOOLKIT_AUDIO_MAX_SECONDS,
        )
    assert checked.content_type == item.audio_content_type == "audio/ogg"
    assert abs(checked.seconds - item.audio_seconds) < 1


def test_the_migration_reverses_and_reapplies():
    library.remove_library(apps, None)
    assert not ToolkitItem.objects.filter(owner=None, slug="box-breathing").exists()
    library.add_library(apps, None)
    item = ToolkitItem.objects.get(owner=None, slug="box-breathing")
    assert default_storage.exists(item.audio.name)

from django.utils import translation

from core.i18n import in_active_language


def test_text_in_the_active_language_is_chosen():
    with translation.override("zh-hans"):
        assert in_active_language("Box breathing", "箱式呼吸") == "箱式呼吸"
    with translation.override("en"):
        assert in_active_language("Box breathing", "箱式呼吸") == "Box breathing"


def test_text_written_in_one_language_only_still_shows():
    with translation.override("zh-hans"):
        assert in_active_language("Box breathing", "") == "Box breathing"
    with translation.override("en"):
        assert in_active_language("", "箱式呼吸") == "箱式呼吸"

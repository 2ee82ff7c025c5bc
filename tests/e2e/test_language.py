"""The language switch: home, the directory and a counselor's profile in Chinese."""

import datetime as dt

from playwright.sync_api import expect

from tests.factories import CounselorProfileFactory, OneOffWindowFactory, next_quarter


def test_switching_to_chinese_renders_the_main_pages_in_chinese(new_context):
    counselor = CounselorProfileFactory(display_name="林悦 · Lin Yue")
    start = next_quarter(days=1)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))

    page = new_context(locale="en-US").new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pianke · a few minutes to be heard")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("片刻 · 花几分钟，被好好倾听")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="处于危机中？立即求助")).to_be_visible()

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="咨询师").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("找咨询师")
    expect(page.get_by_text("找到 1 位咨询师。")).to_be_visible()

    page.get_by_role("link", name="林悦 · Lin Yue", exact=True).click()
    expect(page.get_by_role("heading", name="未来 7 天的空闲时间")).to_be_visible()
    expect(page.get_by_text("¥60 / 15 分钟 · ¥100 / 30 分钟")).to_be_visible()

    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", name="Free times in the next 7 days")).to_be_visible()

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot


def test_home_page_renders_with_crisis_lines(new_context):
    page = new_context().new_page()
    page.goto("/")
    assert page.locator(".crisis").is_visible()
    expect(page.get_by_role("link", name="In crisis? Get help now")).to_have_attribute(
        "href", "/help/"
    )
    screenshot(page, "home")

from tests.e2e.conftest import screenshot


def test_home_page_renders_with_crisis_lines(new_context):
    page = new_context().new_page()
    page.goto("/")
    assert page.locator(".crisis").is_visible()
    screenshot(page, "home")

"""Insights in the browser: staff see the talk-now heat map with a small cell hidden, and a
counselor sees their own outcome figures and the distress-change plot."""

import csv
import datetime as dt

from playwright.sync_api import expect

from insights.services import insights_materialise
from tests.factories import ClientFactory, CounselorProfileFactory, StaffFactory
from tests.insights.scenes import BASE, PERIOD, seed_outcomes, talk_now

QUERY = f"?from={PERIOD['from']}&to={PERIOD['to']}"


def test_staff_see_the_heat_map_with_a_small_cell_hidden(new_context):
    # Six clients on Monday 10:00 in Beijing (02:00 UTC), four on Tuesday 15:00 (07:00 UTC).
    for client in ClientFactory.create_batch(6):
        talk_now(client=client, created_at=BASE)
    for client in ClientFactory.create_batch(4):
        talk_now(client=client, created_at=BASE + dt.timedelta(days=1, hours=5))
    insights_materialise()

    page = new_context(StaffFactory(username="sam")).new_page()
    page.goto("/")
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    page.goto("/staff/insights/" + QUERY)
    heat = page.locator("#heat-map")
    expect(heat).to_be_visible()
    rows = heat.locator("tbody tr")
    expect(rows.nth(0).locator("th")).to_have_text("Monday")
    # Six on Monday 10:00 cannot be shown beside a four and a row total: 10 - 6 would give the
    # four back, so complementary suppression hides the six as well (the grid's first td is
    # hour 00). No cell or total shows a 4; the grand total (10 clients) stays.
    tuesday_15 = rows.nth(1).locator("td").nth(15)
    expect(tuesday_15).to_have_text("—")
    expect(tuesday_15).to_have_class("suppressed")
    shown = [text.strip() for text in heat.locator("td").all_inner_texts()]
    assert "4" not in shown and "6" not in shown and shown[-1] == "10"
    with page.expect_download() as download:
        page.locator("#heat-map").locator("xpath=../..").get_by_role(
            "link", name="Download as CSV"
        ).click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[1][0] == "Monday"
    assert "4" not in {value for line in lines[1:] for value in line[1:]}


def test_a_counselor_sees_their_outcomes_and_the_change_plot(new_context):
    counselor = CounselorProfileFactory(display_name="Zhou Ning", user__language="en")
    seed_outcomes(counselor)
    insights_materialise()

    page = new_context(counselor.user).new_page()
    page.goto("/counselor/outcomes/" + QUERY)
    expect(page.locator("svg.change-plot")).to_be_visible()
    # The seeded mean change is -2 with a 95% interval of [-3.48, -0.52].
    expect(page.locator("main")).to_contain_text("-3.48")
    expect(page.locator("main")).to_contain_text("-0.52")

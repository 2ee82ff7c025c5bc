"""A cell of 4 clients never appears in the API, the page or the CSV, and cannot be got back
from the totals shown beside it; a topic fewer than K clients raised is not even named (it is
free text: its name alone could point at someone)."""

import csv
import io

import pytest

from insights.services import insights_materialise
from tests.factories import ClientFactory
from tests.insights.scenes import BASE, PERIOD, completed

pytestmark = pytest.mark.django_db

# grief: 4 clients, 4 sessions (the small cell); sleep: 6; work stress: 7.
TOPICS = {"grief": 4, "sleep": 6, "work stress": 7}


@pytest.fixture
def scene(counselor):
    hour = 0
    for topic, n in TOPICS.items():
        for client in ClientFactory.create_batch(n):
            completed(
                counselor=counselor,
                client=client,
                start=BASE.replace(hour=hour % 24, day=1 + hour // 24),
                topic=topic,
            )
            hour += 1
    insights_materialise()


def _rows(data: dict, table: str) -> dict:
    return {row["label"]: row["cells"][0] for row in data["tables"][table]["rows"]}


def test_the_api_hides_the_small_cell_and_its_complement(scene, as_staff):
    rows = _rows(as_staff.get("/api/v1/insights/", PERIOD).json(), "outcomes_by_topic")
    assert "grief" not in rows
    assert rows["Other topics"] == {"value": None, "suppressed": True}
    # 17 in all: with sleep hidden too, 17 − 7 = 10 is the other topics and sleep together.
    assert rows["sleep"]["suppressed"] and not rows["work stress"]["suppressed"]


def test_no_total_recovers_the_small_cell(scene, as_staff):
    table = as_staff.get("/api/v1/insights/", PERIOD).json()["tables"]["outcomes_by_topic"]
    hidden = [row for row in table["rows"] if row["cells"][0]["suppressed"]]
    assert len(hidden) >= 2 or table["column_totals"][0]["suppressed"]


def test_the_page_never_shows_the_small_cell(scene, client, staff_user):
    client.force_login(staff_user)
    html = client.get("/staff/insights/", PERIOD).content.decode()
    assert "grief" not in html
    row = html.split('<th scope="row">Other topics</th>', 1)[1].split("</tr>", 1)[0]
    assert ">4<" not in row and "—" in row


def test_the_csv_never_shows_the_small_cell(scene, client, staff_user):
    client.force_login(staff_user)
    response = client.get("/staff/insights/export/outcomes_by_topic.csv", PERIOD)
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert "grief" not in rows
    assert set(rows["Other topics"][1:]) == {"—"}
    assert set(rows["sleep"][1:]) == {"—"}


def test_a_counselor_with_four_clients_sees_their_figures_hidden(counselor, as_counselor):
    for i, client in enumerate(ClientFactory.create_batch(4)):
        completed(counselor=counselor, client=client, start=BASE.replace(hour=i))
    insights_materialise()
    data = as_counselor.get("/api/v1/counselors/me/outcomes/", PERIOD).json()
    assert data["tables"]["outcomes_by_topic"]["column_totals"][0]["suppressed"]
    assert data["tables"]["change_over_time"]["column_totals"][0]["suppressed"]


def test_five_sessions_of_one_client_are_still_one_client(counselor, as_staff):
    client_user = ClientFactory()
    for day in range(1, 6):
        completed(counselor=counselor, client=client_user, start=BASE.replace(day=day))
    insights_materialise()
    data = as_staff.get("/api/v1/insights/", PERIOD).json()
    assert data["tables"]["outcomes_by_topic"]["column_totals"][0]["suppressed"]

"""Profile prices stay within the platform's bounds, which every charge is held to."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_a_price_over_the_platforms_bound_is_a_400_on_that_price(as_counselor, counselor):
    too_much = str(settings.OFFERING_PRICE_MAX + 1)
    response = as_counselor.patch("/api/v1/counselors/me/", {"price_30": too_much}, format="json")
    assert response.status_code == 400 and "price_30" in response.json()
    counselor.refresh_from_db()
    assert counselor.price_30 <= settings.OFFERING_PRICE_MAX

import pytest


@pytest.fixture(autouse=True)
def _roomy_join_throttle(monkeypatch):
    """The join throttle's counters live in the shared Redis and outlive a test database (the
    user ids repeat between runs): lift the limit here; test_join_throttle sets its own."""
    from organisations.views import JoinThrottle

    monkeypatch.setattr(JoinThrottle, "rate", "10000/minute")

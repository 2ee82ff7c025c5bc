import base64
import datetime as dt
import hashlib
import hmac

from listening.ice import ice_servers_for


def test_no_turn_credentials_without_a_turn_secret(settings):
    settings.ICE_SERVERS = [{"urls": ["stun:turn.example.org:3478"]}]
    settings.TURN_URLS, settings.TURN_SECRET = ["turn:turn.example.org:3478"], ""
    end = dt.datetime(2027, 1, 1, 12, 30, tzinfo=dt.UTC)
    assert ice_servers_for(user_id=7, session_end=end) == [{"urls": ["stun:turn.example.org:3478"]}]


def test_turn_credentials_are_short_lived_and_verifiable_by_coturn(settings):
    settings.ICE_SERVERS = []
    settings.TURN_URLS, settings.TURN_SECRET = ["turn:turn.example.org:3478"], "s3cret"
    end = dt.datetime(2027, 1, 1, 12, 30, tzinfo=dt.UTC)
    [turn] = ice_servers_for(user_id=7, session_end=end)
    expiry, user = turn["username"].split(":")
    assert user == "7"
    assert int(expiry) == int((end + dt.timedelta(hours=1)).timestamp())
    expected = base64.b64encode(
        hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert "s3cret" not in str(turn)

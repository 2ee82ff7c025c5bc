"""`core.realtime.PubSubChannelLayer` (issue 17) on the real Redis: two layer instances
stand for two server processes. Group sends reach every member in both, a discarded member
hears nothing more, and group membership starts when group_add returns: what is published
right after it is delivered, what was published before it is not."""

import asyncio
import uuid

import pytest
import pytest_asyncio
from django.conf import settings

from core.realtime import PubSubChannelLayer

pytestmark = pytest.mark.asyncio

QUIET_SECONDS = 0.5  # how long "nothing arrives" is watched for


@pytest_asyncio.fixture
async def layers():
    """`make()` gives a layer as a server process has it (the settings' configuration, four
    publish connections), under a key prefix of this test's own; flushed at the end."""
    prefix = f"pianke-test-layer-{uuid.uuid4().hex[:8]}"
    made = []

    def make():
        layer = PubSubChannelLayer(hosts=[{"address": settings.REDIS_URL}] * 4, prefix=prefix)
        made.append(layer)
        return layer

    yield make
    for layer in made:
        await layer.flush()


async def receive(layer, channel, timeout=5.0):
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def nothing_for(layer, channel) -> bool:
    """Nothing queued for `channel` after QUIET_SECONDS. (Read off the layer's queue: a
    receive() given up on by a timeout would unsubscribe the channel, which channels_redis
    does for a consumer that exits.)"""
    await asyncio.sleep(QUIET_SECONDS)
    return layer._get_layer().channels[channel].empty()


async def test_group_send_reaches_every_member_in_both_processes(layers):
    one, two = layers(), layers()
    a, b = await one.new_channel(), await one.new_channel()
    c = await two.new_channel()
    for layer, channel in ((one, a), (one, b), (two, c)):
        await layer.group_add("room", channel)
    await two.group_send("room", {"type": "room.frame", "n": 1})
    assert [
        (await receive(one, a))["n"],
        (await receive(one, b))["n"],
        (await receive(two, c))["n"],
    ] == [1, 1, 1]
    await one.group_send("room", {"type": "room.frame", "n": 2})
    assert (await receive(two, c))["n"] == 2
    assert (await receive(one, a))["n"] == (await receive(one, b))["n"] == 2


async def test_group_discard_stops_delivery(layers):
    one, two = layers(), layers()
    a, b = await one.new_channel(), await one.new_channel()
    c = await two.new_channel()
    for layer, channel in ((one, a), (one, b), (two, c)):
        await layer.group_add("room", channel)
    await one.group_discard("room", b)  # one of two members in its process
    await two.group_discard("room", c)  # the last member in its process: unsubscribed
    await one.group_send("room", {"type": "room.frame", "n": 1})
    assert (await receive(one, a))["n"] == 1
    assert await nothing_for(one, b)
    assert await nothing_for(two, c)
    await two.group_discard("room", c)  # twice is harmless
    await two.group_add("room", c)  # and back in
    await one.group_send("room", {"type": "room.frame", "n": 2})
    assert (await receive(two, c))["n"] == 2


async def test_a_send_right_after_group_add_is_not_lost(layers):
    """A fresh group each time, so each group_add is the process's first SUBSCRIBE to it: the
    PUBLISH from the other process goes out the moment group_add returns."""
    one, two = layers(), layers()
    for k in range(50):
        channel = await one.new_channel()
        await one.group_add(f"fresh-{k}", channel)
        await two.group_send(f"fresh-{k}", {"type": "room.frame", "n": k})
        assert (await receive(one, channel, timeout=2))["n"] == k


async def test_a_newcomer_does_not_hear_what_was_sent_before_it_joined(layers):
    """The process already listens to the group (one member): a message published before a
    second member's group_add is still in the subscriber connection's buffer, and is not
    handed to the newcomer; the next one is."""
    one, two = layers(), layers()
    old = await one.new_channel()
    await one.group_add("room", old)
    for k in range(20):
        newcomer = await one.new_channel()
        await two.group_send("room", {"type": "room.frame", "n": f"before-{k}"})
        await one.group_add("room", newcomer)
        await two.group_send("room", {"type": "room.frame", "n": f"after-{k}"})
        assert (await receive(one, newcomer))["n"] == f"after-{k}"
        assert [(await receive(one, old))["n"] for _ in range(2)] == [f"before-{k}", f"after-{k}"]
        await one.group_discard("room", newcomer)


async def test_concurrent_joins_and_a_last_leave_keep_the_subscription(layers):
    one, two = layers(), layers()
    leaving = await one.new_channel()
    await one.group_add("room", leaving)
    joining = [await one.new_channel() for _ in range(5)]
    # The last member leaves while five others join: the group stays subscribed.
    await asyncio.gather(
        one.group_discard("room", leaving), *(one.group_add("room", c) for c in joining)
    )
    await two.group_send("room", {"type": "room.frame", "n": 1})
    assert [(await receive(one, c))["n"] for c in joining] == [1] * 5
    assert await nothing_for(one, leaving)


async def test_another_redis_database_is_another_namespace(layers):
    """Pub/sub channels are server-wide in Redis; the database number keeps two deployments
    with the same prefix apart (nothing is written to the other database: pub/sub stores no
    keys)."""
    from urllib.parse import urlsplit, urlunsplit

    here = layers()
    parts = urlsplit(settings.REDIS_URL)
    db = int(parts.path.strip("/") or 0)
    elsewhere_url = urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))
    elsewhere = PubSubChannelLayer(
        hosts=[{"address": elsewhere_url}], prefix=here._kwargs["prefix"].split("@db")[0]
    )
    try:
        mine, theirs = await here.new_channel(), await elsewhere.new_channel()
        await here.group_add("staff", mine)
        await elsewhere.group_add("staff", theirs)
        await elsewhere.group_send("staff", {"type": "staff.frame", "n": "theirs"})
        await here.group_send("staff", {"type": "staff.frame", "n": "mine"})
        assert (await receive(here, mine))["n"] == "mine"
        assert (await receive(elsewhere, theirs))["n"] == "theirs"
        assert await nothing_for(here, mine)
        assert await nothing_for(elsewhere, theirs)
    finally:
        await elsewhere.flush()

"""A worker survives Redis going away with a BRPOP in flight and messages unacknowledged.

This replays what Celery 5.7's consumer does when it notices the loss on another
connection (``collect()``, then ``close()``), against a Redis of the test's own that
it stops. kombu's own transport ends in the AttributeError that killed busy workers.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from kombu.transport import redis as kombu_redis

from govsocial.broker import Transport
from publishing.tests.processes import RedisServer, skip_or_fail


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        skip_or_fail("needs the redis-server program to start a Redis of the test's own")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def lose_the_broker_while_busy(url: str, redis: RedisServer, transport: type) -> Any:
    """A channel holding an unacknowledged message, waiting in BRPOP, when Redis stops;
    then the consumer's clean-up, in Celery's order."""
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    queue = Queue("busy", Exchange("busy"), routing_key="busy")(channel)
    queue.declare()
    producer = connection.Producer(channel)
    producer.publish({"n": 1}, exchange=queue.exchange, routing_key="busy")
    producer.publish({"n": 2}, exchange=queue.exchange, routing_key="busy")
    # A fanout queue that goes away with the consumer, as gossip's and mingle's do.
    broadcast = Queue("gossip", Exchange("broadcast", type="fanout"), auto_delete=True)(channel)
    broadcast.declare()
    message = queue.get(no_ack=False)  # being worked on: not acknowledged yet
    assert message is not None
    connection.Consumer([queue, broadcast], callbacks=[lambda body, msg: None]).consume()
    connection.transport.cycle._register_BRPOP(channel)  # waiting for the next message
    redis.stop()
    with contextlib.suppress(Exception):
        connection.collect(socket_timeout=2.0)
    try:
        # Celery's ignore_errors(connection, connection.close): connection errors are
        # ignored, anything else stops the worker ("Unrecoverable error").
        with contextlib.suppress(connection.connection_errors):
            connection.close()
    finally:
        # Nothing is left to restore at the interpreter's exit either way.
        channel.qos._on_collect.cancel()
    return channel


def test_a_busy_channel_closes_cleanly_after_redis_went_away(private_redis):
    channel = lose_the_broker_while_busy(private_redis.url, private_redis, Transport)
    assert channel.closed


def test_kombus_own_transport_fails_that_way(private_redis):
    """The fault this transport fixes (if kombu fixes it, govsocial.broker can go)."""
    with pytest.raises(AttributeError, match="hostname"):
        lose_the_broker_while_busy(private_redis.url, private_redis, kombu_redis.Transport)

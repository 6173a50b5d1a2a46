"""kombu's Redis transport, with one fault fixed: a worker must survive a Redis restart.

With Celery 5.7, kombu 5.7 and redis-py 8, a busy worker (``acks_late`` messages not
yet acknowledged) exits when Redis restarts, with ``Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")`` right after
"Restoring N unacknowledged message(s)". When Celery notices the lost broker it
calls ``Connection.collect()`` and then ``close()``:

1. ``collect()`` closes the default channel. kombu's ``Channel.close`` first deletes
   the channel's auto-delete fanout queues (gossip's and mingle's: on in production)
   and reads a pending BRPOP reply. Redis is gone, so that raises a connection error,
   which ``maybe_close_channel`` swallows: the channel stays open. ``collect()`` then
   drops the transport's link to its Connection (``transport.client = None``).
2. ``close()`` closes that channel again, and now it runs to the end: it drops the
   connection pools and restores the unacknowledged messages, which needs a new
   pool, built from ``transport.client.hostname``: None. An AttributeError is not a
   connection error, so it escapes Celery's ``ignore_errors`` and stops the worker.

Here neither a failed fanout-queue delete nor a failed BRPOP read stops the close
(the channel closes in step 1, while its transport is still whole), and a pool
asked for after the transport was dropped raises a connection error that Celery
ignores. The unacknowledged messages stay in Redis's unacked set until the
visibility timeout; publishing never depends on them (the database's leases bring
every job back).
"""

from __future__ import annotations

import contextlib
from queue import Empty
from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def close(self) -> None:
        """kombu's ``Channel.close``, finishing even when the broker is gone."""
        self._closing = True
        if self._in_poll:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors:
                pass  # the broker is gone with the BRPOP's answer
        if not self.closed:
            self.connection.cycle.discard(self)
            client = self.__dict__.get("client")  # only if the property was used
            if client is not None:
                for queue in self._fanout_queues:
                    if queue in self.auto_delete_queues:
                        # A Redis that restarted without persistence kept nothing anyway.
                        with contextlib.suppress(*self.connection_errors):
                            self.queue_delete(queue, client=client)
            self._disconnect_pools()
            self._close_clients()
        # The virtual transport's close: cancel consumers, restore unacked messages.
        super(kombu_redis.Channel, self).close()

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel

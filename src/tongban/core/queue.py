"""The production job queue: Huey on Redis, delivering every message at least once, dropping none.

Huey's Redis storage pops a message before running it, so a worker killed in the middle of a job
(kill -9, an OOM kill, a lost host) loses that job, and a message naming a task this worker does
not know is logged and thrown away. Here:

- A worker moves each message atomically from the queue to an in-flight list of its own
  (BLMOVE) and removes it from there only once the job has finished, failed for good or been
  kept as a dead letter. Each worker holds a lease in Redis that a background thread renews; when
  a worker dies, its lease lapses and any live worker puts its in-flight messages back at the head
  of the queue (TONGBAN_QUEUE_LEASE_SECONDS, 30 s by default). Jobs are therefore written to be
  run again safely (each one checks what it already did; see docs/deploy.md).
- Due scheduled messages (retries with a delay, jobs with an eta) move from the schedule onto the
  queue in one Redis script, instead of being popped first and pushed again by the scheduler.
- A message whose task name is unknown or that cannot be decoded, and a job that failed on its
  last retry, are kept as dead letters (core.jobs) with the raw message, reported by
  `tongban jobs dead-letters` and the metrics, and can be put back with `tongban jobs requeue`.
  If even that cannot be written (the database is down), the message is scheduled again a minute
  later rather than lost.

Results are kept for TONGBAN_QUEUE_RESULT_SECONDS (an hour) and then expire, so Redis does not
fill with the results nobody reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid

from huey import RedisExpireHuey
from huey import signals as huey_signals
from huey.storage import RedisExpireStorage

logger = logging.getLogger(__name__)

RETRY_UNRECORDED_SECONDS = 60

# KEYS: lease, in-flight list, queue, consumer set. ARGV: consumer id.
# A consumer whose lease lapsed gets its in-flight messages put back at the dequeue end of the
# queue, oldest first out.
_RECOVER_LUA = """
if redis.call('exists', KEYS[1]) == 1 then return -1 end
local n = 0
while redis.call('lmove', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do n = n + 1 end
redis.call('srem', KEYS[4], ARGV[1])
return n
"""

# KEYS: schedule, queue. ARGV: now. Due messages go straight onto the queue (the enqueue end).
_SCHEDULE_TO_QUEUE_LUA = """
local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1])
for _, message in ipairs(due) do redis.call('lpush', KEYS[2], message) end
if #due > 0 then redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1]) end
return #due
"""


class ReliableRedisStorage(RedisExpireStorage):
    def __init__(self, name="huey", lease_seconds=30, **kwargs):
        kwargs.setdefault("expire_time", 3600)
        super().__init__(name, **kwargs)
        self.lease_seconds = max(3, int(lease_seconds))
        self.consumers_key = f"huey.consumers.{self.name}"
        self._recover = self.conn.register_script(_RECOVER_LUA)
        self._schedule_to_queue = self.conn.register_script(_SCHEDULE_TO_QUEUE_LUA)
        self._consumer: tuple[int, str] | None = None  # (pid, id): a forked child takes a new id
        self._consumer_lock = threading.Lock()
        self._local = threading.local()

    # --- keys ------------------------------------------------------------------------------------

    def inflight_key(self, consumer: str) -> str:
        return f"huey.inflight.{self.name}.{consumer}"

    def lease_key(self, consumer: str) -> str:
        return f"huey.lease.{self.name}.{consumer}"

    def consumer_id(self) -> str:
        """This process's id as a consumer; the first call registers it and starts its lease."""
        pid = os.getpid()
        with self._consumer_lock:
            if self._consumer is None or self._consumer[0] != pid:
                ident = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"
                self._consumer = (pid, ident)
                self.renew_lease(ident)
                self.conn.sadd(self.consumers_key, ident)
                thread = threading.Thread(
                    target=self._keep_lease, args=(ident,), name="huey-lease", daemon=True
                )
                thread.start()
            return self._consumer[1]

    def renew_lease(self, consumer: str) -> None:
        self.conn.set(self.lease_key(consumer), str(time.time()), ex=self.lease_seconds)

    def _keep_lease(self, consumer: str) -> None:
        period = self.lease_seconds / 3
        while self._consumer is not None and self._consumer[1] == consumer:
            try:
                self.renew_lease(consumer)
                self.recover_lapsed()
            except Exception as error:  # Redis away for a moment: try again next period
                logger.warning("queue lease not renewed: %s", error)
            time.sleep(period)

    def recover_lapsed(self) -> int:
        """Put the in-flight messages of every consumer whose lease lapsed back on the queue."""
        recovered = 0
        for raw in self.conn.smembers(self.consumers_key):
            consumer = raw.decode() if isinstance(raw, bytes) else raw
            moved = self._recover(
                keys=[
                    self.lease_key(consumer),
                    self.inflight_key(consumer),
                    self.queue_key,
                    self.consumers_key,
                ],
                args=[consumer],
            )
            if moved and moved > 0:
                logger.warning("re-queued %d job(s) of worker %s, whose lease lapsed", moved, consumer)
                recovered += moved
        return recovered

    # --- the queue -------------------------------------------------------------------------------

    def dequeue(self):
        inflight = self.inflight_key(self.consumer_id())
        if self.blocking:
            data = self.conn.blmove(self.queue_key, inflight, self.read_timeout, "RIGHT", "LEFT")
        else:
            data = self.conn.lmove(self.queue_key, inflight, "RIGHT", "LEFT")
        self._local.message = data
        return data

    def taken(self):
        """The raw message this thread dequeued last and has not settled yet."""
        return getattr(self._local, "message", None)

    def ack(self, data) -> None:
        self._local.message = None
        if data is not None:
            self.conn.lrem(self.inflight_key(self.consumer_id()), 1, data)

    def retry_later(self, data, seconds: float = RETRY_UNRECORDED_SECONDS) -> None:
        """Settle a message that could not be settled properly by running it again later."""
        when = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=seconds)
        self.add_to_schedule(data, when)
        self.ack(data)

    def read_schedule(self, ts):
        self._schedule_to_queue(keys=[self.schedule_key, self.queue_key], args=[self.convert_ts(ts)])
        return []

    def inflight_size(self) -> int:
        return sum(
            self.conn.llen(self.inflight_key(c.decode() if isinstance(c, bytes) else c))
            for c in self.conn.smembers(self.consumers_key)
        )

    def consumers(self) -> list[dict]:
        found = []
        for raw in sorted(self.conn.smembers(self.consumers_key)):
            consumer = raw.decode() if isinstance(raw, bytes) else raw
            found.append(
                {
                    "id": consumer,
                    "alive": bool(self.conn.exists(self.lease_key(consumer))),
                    "in_flight": self.conn.llen(self.inflight_key(consumer)),
                }
            )
        return found


class ReliableRedisHuey(RedisExpireHuey):
    storage_class = ReliableRedisStorage

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._settle = threading.local()
        self.signal(huey_signals.SIGNAL_ERROR)(self._on_error)
        self.signal(huey_signals.SIGNAL_INTERRUPTED)(self._on_interrupted)

    def dequeue(self):
        data = self.storage.dequeue()
        if data is None:
            return None
        try:
            return self.deserialize_task(data)
        except Exception as error:
            self._keep(data, error)
            return None

    def _keep(self, data, error: Exception, task=None) -> bool:
        """Keep a message as a dead letter; True once it is recorded (else it runs again later)."""
        from . import jobs

        try:
            jobs.keep_dead_letter(self.serializer, data, error, task=task)
        except Exception as failure:
            logger.error("dead letter not recorded (%s); the job runs again in a minute", failure)
            self.storage.retry_later(data)
            return False
        self.storage.ack(data)
        return True

    def execute(self, task, timestamp=None):
        data = self.storage.taken()
        self._settle.state = "ack"
        try:
            return super().execute(task, timestamp)
        finally:
            state, self._settle.state = self._settle.state, None
            if data is not None and state == "ack":
                self.storage.ack(data)
            elif data is not None and state == "failed":
                self._keep(data, self._settle.error, task=task)
            # "interrupted": left in flight; put back on the queue when this worker's lease lapses.

    def _on_error(self, signal, task, exc=None):
        if task.retries:  # Huey schedules it again
            return
        if getattr(self._settle, "state", None) == "ack":
            self._settle.state, self._settle.error = "failed", exc

    def _on_interrupted(self, signal, task, *args):
        if getattr(self._settle, "state", None) is not None:
            self._settle.state = "interrupted"

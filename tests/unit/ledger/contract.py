"""The ledger contract as a reusable test suite: every backend must pass these.

A backend's test module subclasses ``LedgerContract`` and provides two fixtures:

    ledger          an opened, empty ledger (closed by the fixture afterwards)
    ledger_factory  a zero-argument callable returning a new, unopened ledger on the
                    same storage as ``ledger`` (for close/reopen durability)

The tests use the real clock, short leases, and poll with a deadline (never a bare sleep).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from media_bridge.jobs.priority import Priority
from media_bridge.ledger.base import TOMBSTONE, Ledger, LedgerDataError, SpeechTotals
from media_bridge.types import JobKind, JobState, NewJob

LedgerFactory = Callable[[], Ledger]


def now() -> datetime:
    return datetime.now(UTC)


def job(key: str, kind: JobKind = JobKind.ATTACHMENT, **kw: object) -> NewJob:
    payload = kw.pop("payload", {"key": key, "n": 1})
    return NewJob(key=key, kind=kind, payload=payload, **kw)  # type: ignore[arg-type]


async def claim_eventually(
    ledger: Ledger, worker: str, lease: float = 30.0, timeout: float = 10.0
) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        claimed = await ledger.claim(worker, 10, lease)
        if claimed:
            return [j.key for j in claimed]
        await asyncio.sleep(0.02)
    return []


class LedgerContract:
    """The contract every ledger backend passes (its fixtures supply the ledger)."""

    async def test_add_jobs_is_idempotent_by_key(self, ledger: Ledger) -> None:
        assert await ledger.add_jobs([job("a"), job("b"), job("a")]) == 2
        assert await ledger.add_jobs([job("a", payload={"changed": True}), job("c")]) == 1
        assert await ledger.add_jobs([]) == 0
        assert await ledger.existing_keys(["a", "b", "c", "zz"]) == {"a", "b", "c"}
        stored = await ledger.get("a")
        assert stored is not None
        assert stored.payload == {"key": "a", "n": 1}  # the first payload stays
        assert stored.state is JobState.PENDING
        assert stored.attempts == 0
        assert stored.kind is JobKind.ATTACHMENT
        assert await ledger.get("zz") is None

    async def test_a_value_the_database_refuses_is_a_data_error_and_writes_nothing(
        self, ledger: Ledger
    ) -> None:
        """The intake relies on it: it then writes the batch event by event."""
        for bad in (job("key\ud800"), job("p", payload={"name": "x\udc00"})):
            with pytest.raises(LedgerDataError):
                await ledger.add_jobs([job("fine"), bad])
            assert await ledger.existing_keys(["fine", "p"]) == set()

    async def test_claim_takes_due_jobs_earliest_first(self, ledger: Ledger) -> None:
        t = now()
        await ledger.add_jobs(
            [
                job("late", not_before=t - timedelta(seconds=1)),
                job("early", not_before=t - timedelta(seconds=5)),
                job("future", not_before=t + timedelta(hours=1)),
            ]
        )
        (first,) = await ledger.claim("w1", 1, 30)
        assert first.key == "early"
        assert first.state is JobState.RUNNING
        assert first.attempts == 1
        assert first.worker_id == "w1"
        assert first.lease_until is not None
        assert first.lease_until > t + timedelta(seconds=20)
        rest = await ledger.claim("w1", 10, 30)
        assert [j.key for j in rest] == ["late"]
        assert await ledger.claim("w2", 10, 30) == []

    async def test_claim_takes_live_jobs_first_then_deferred_then_backfill(
        self, ledger: Ledger
    ) -> None:
        t = now()
        backfill = {"event": {"topic": "backfill"}}
        await ledger.add_jobs(
            [
                # the backfill job is due first, yet the live one is claimed first
                job("old", payload=backfill, not_before=t - timedelta(seconds=9)),
                job("transcript", JobKind.TRANSCRIPT, not_before=t - timedelta(seconds=8)),
                job("forced", priority=Priority.BACKFILL, not_before=t - timedelta(seconds=7)),
                job("live", not_before=t - timedelta(seconds=1)),
                job("live later", not_before=t + timedelta(hours=1)),
            ]
        )
        (first,) = await ledger.claim("w", 1, 30)
        assert (first.key, first.priority) == ("live", Priority.LIVE)
        (second,) = await ledger.claim("w", 1, 30)
        assert (second.key, second.priority) == ("transcript", Priority.DEFERRED)
        rest = await ledger.claim("w", 10, 30)
        assert sorted((j.key, j.priority) for j in rest) == [
            ("forced", Priority.BACKFILL),
            ("old", Priority.BACKFILL),
        ]
        stored = await ledger.get("live later")
        assert stored is not None
        assert stored.priority == Priority.LIVE

    async def test_claim_takes_at_most_so_many_jobs_of_other_classes_than_live(
        self, ledger: Ledger
    ) -> None:
        backfill = {"event": {"topic": "backfill"}}
        await ledger.add_jobs(
            [job(f"old{i}", payload=backfill) for i in range(5)] + [job("live0"), job("live1")]
        )
        first = await ledger.claim("w", 4, 30, non_live_limit=1)
        assert sorted(j.key for j in first)[:2] == ["live0", "live1"]
        assert len(first) == 3  # two live, one backfill: the fourth slot stays for live work
        assert await ledger.claim("w", 4, 30, non_live_limit=0) == []
        assert len(await ledger.claim("w", 4, 30, non_live_limit=9)) == 4

    async def test_a_live_job_named_again_lifts_a_waiting_backfill_job_to_live(
        self, ledger: Ledger
    ) -> None:
        backfill = {"event": {"topic": "backfill"}}
        early = now() - timedelta(seconds=5)
        await ledger.add_jobs([job("done", payload=backfill, not_before=early)])
        await ledger.add_jobs([job(k, payload=backfill) for k in ("waiting", "kept")])
        (first,) = await ledger.claim("w", 1, 30)
        assert first.key == "done"
        assert await ledger.complete("done", "w", {})
        added = await ledger.add_jobs(
            [job("waiting"), job("done"), job("kept", payload=backfill), job("fresh")]
        )
        # one new key; the waiting backfill job a live one named is live now, its payload
        # unchanged; a done job stays as it was; a backfill job named again changes nothing
        assert (added, added.new, added.reopened, added.promoted) == (1, 1, 0, 1)
        classes = {}
        for key in ("waiting", "done", "kept"):
            stored = await ledger.get(key)
            assert stored is not None
            assert stored.payload == backfill
            classes[key] = stored.priority
        assert classes == {
            "waiting": Priority.LIVE,
            "done": Priority.BACKFILL,
            "kept": Priority.BACKFILL,
        }

    async def test_a_live_reopen_lifts_a_backfill_job_and_a_backfill_one_never_lowers(
        self, ledger: Ledger
    ) -> None:
        conv = "conversation:b1"
        backfill = {"event": {"topic": "backfill"}}
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload=backfill)])
        assert (await ledger.get(conv)).priority == Priority.BACKFILL  # type: ignore[union-attr]
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload={"n": 2}, reopen=True)])
        assert (await ledger.get(conv)).priority == Priority.LIVE  # type: ignore[union-attr]
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload=backfill, reopen=True)])
        assert (await ledger.get(conv)).priority == Priority.LIVE  # type: ignore[union-attr]
        # a done job revived by a reopen takes the class of what revived it
        (claimed,) = await ledger.claim("w", 1, 30)
        assert await ledger.complete(claimed.key, "w", {})
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload=backfill, reopen=True)])
        assert (await ledger.get(conv)).priority == Priority.BACKFILL  # type: ignore[union-attr]

    async def test_claim_filters_by_kind_and_respects_limit(self, ledger: Ledger) -> None:
        await ledger.add_jobs(
            [job(f"t{i}", JobKind.TEXT) for i in range(3)] + [job("conv", JobKind.CONVERSATION)]
        )
        conv = await ledger.claim("w", 10, 30, kinds=[JobKind.CONVERSATION])
        assert [j.key for j in conv] == ["conv"]
        two = await ledger.claim("w", 2, 30, kinds=[JobKind.TEXT, JobKind.ATTACHMENT])
        assert len(two) == 2
        assert len(await ledger.claim("w", 10, 30)) == 1
        assert await ledger.claim("w", 0, 30) == []

    async def test_concurrent_claims_never_hand_out_a_job_twice(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job(f"k{i:03d}") for i in range(200)])
        batches = await asyncio.gather(*(ledger.claim(f"w{i % 5}", 7, 30) for i in range(40)))
        keys = [j.key for batch in batches for j in batch]
        assert len(keys) == 200
        assert len(set(keys)) == 200
        done = await asyncio.gather(
            *(ledger.complete(j.key, j.worker_id or "", {}) for batch in batches for j in batch)
        )
        assert all(done)
        assert (await ledger.counts())[JobState.DONE] == 200

    async def test_lapsed_lease_is_taken_over_and_only_the_holder_completes(
        self, ledger: Ledger
    ) -> None:
        await ledger.add_jobs([job("a")])
        assert [j.key for j in await ledger.claim("w1", 1, 0.2)] == ["a"]
        assert await ledger.claim("w2", 1, 30) == []  # lease still held
        assert await claim_eventually(ledger, "w2") == ["a"]
        taken = await ledger.get("a")
        assert taken is not None
        assert taken.worker_id == "w2"
        assert taken.attempts == 2
        assert await ledger.complete("a", "w1", {"by": "w1"}) is False
        assert await ledger.fail("a", "w1", "boom", "transient", None) is False
        assert await ledger.release("a", "w1", now()) is False
        assert await ledger.complete("a", "w2", {"by": "w2"}) is True
        done = await ledger.get("a")
        assert done is not None
        assert done.state is JobState.DONE
        assert done.result == {"by": "w2"}
        assert done.worker_id is None

    async def test_done_jobs_are_never_claimed_again(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job("a")])
        # a lease of zero has lapsed already: no waiting needed to show that a done
        # job has no lease left to lapse
        await ledger.claim("w1", 1, 0)
        assert await ledger.complete("a", "w1", {}) is True
        assert await ledger.complete("a", "w1", {}) is False
        assert await ledger.claim("w2", 10, 30) == []
        assert await ledger.add_jobs([job("a")]) == 0

    async def test_extend_lease_only_for_the_holder(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job("a"), job("b")])
        await ledger.claim("w1", 2, 1.0)
        await ledger.extend_lease(["a"], "w1", 600)
        await ledger.extend_lease(["b"], "intruder", 600)
        a, b = await ledger.get("a"), await ledger.get("b")
        assert a is not None
        assert b is not None
        assert a.lease_until is not None
        assert b.lease_until is not None
        assert a.lease_until > now() + timedelta(seconds=500)
        assert b.lease_until < now() + timedelta(seconds=5)
        assert await claim_eventually(ledger, "w2", timeout=5) == ["b"]

    async def test_fail_retry_then_dead_then_operator_retry(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job("a")])
        await ledger.claim("w", 1, 30)
        assert await ledger.fail("a", "w", "HTTP 503", "transient", now() - timedelta(seconds=1))
        retrying = await ledger.get("a")
        assert retrying is not None
        assert retrying.state is JobState.RETRY
        assert retrying.last_error == "HTTP 503"
        assert retrying.error_code == "transient"
        (again,) = await ledger.claim("w", 1, 30)
        assert again.attempts == 2
        assert await ledger.fail("a", "w", "gone", "not_found", None) is True
        dead = await ledger.get("a")
        assert dead is not None
        assert dead.state is JobState.DEAD
        assert await ledger.claim("w", 1, 30) == []
        assert [j.key for j in await ledger.list_jobs(JobState.DEAD)] == ["a"]
        assert await ledger.retry("a") is True
        assert await ledger.retry("a") is False  # already pending
        assert await ledger.retry("missing") is False
        revived = await ledger.get("a")
        assert revived is not None
        assert revived.state is JobState.PENDING
        assert revived.attempts == 0  # a fresh budget: one blip must not park it again
        assert revived.last_error == "gone"  # the reason stays for the operator
        (third,) = await ledger.claim("w", 1, 30)
        assert third.attempts == 1

    async def test_gauges_count_states_dead_codes_and_the_oldest_due_age(
        self, ledger: Ledger
    ) -> None:
        empty = await ledger.gauges(now())
        assert set(empty.by_state.values()) == {0}
        assert (empty.oldest_due_age_s, empty.dead_by_code) == (0.0, {})
        start = now()
        await ledger.add_jobs(
            [job("due", not_before=start - timedelta(seconds=120)), job("later"), job("x")]
        )
        await ledger.add_jobs([job("future", not_before=start + timedelta(hours=1))])
        (claimed,) = await ledger.claim("w", 1, 30)
        assert claimed.key == "due"
        assert await ledger.fail("due", "w", "gone", "not_found", None)
        (other,) = await ledger.claim("w", 1, 30)
        assert await ledger.fail(other.key, "w", "gone", "not_found", None)
        await ledger.add_jobs([job("old", not_before=start - timedelta(seconds=60))])
        seen = await ledger.gauges(start + timedelta(seconds=30))
        assert seen.by_state[JobState.DEAD] == 2
        assert seen.by_state[JobState.PENDING] == 3
        assert seen.dead_by_code == {"not_found": 2}
        # "old" became due 90 s before the instant asked about; "future" is not due
        assert 89 <= seen.oldest_due_age_s <= 91

    async def test_check_writable_passes_on_an_open_ledger(self, ledger: Ledger) -> None:
        await ledger.check_writable()
        assert await ledger.counts() == dict.fromkeys(JobState, 0)

    async def test_future_retry_waits_until_due(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job("a")])
        await ledger.claim("w", 1, 30)
        await ledger.fail("a", "w", "429", "rate_limited", now() + timedelta(seconds=0.3))
        assert await ledger.claim("w", 1, 30) == []
        assert await claim_eventually(ledger, "w", timeout=5) == ["a"]

    async def test_release_hands_back_without_spending_an_attempt(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job("watch", JobKind.CONVERSATION)])
        await ledger.claim("w", 1, 30)
        assert await ledger.release("watch", "other", now()) is False
        assert await ledger.release("watch", "w", now() + timedelta(hours=1)) is True
        released = await ledger.get("watch")
        assert released is not None
        assert released.state is JobState.PENDING
        assert released.attempts == 0
        assert released.worker_id is None
        assert await ledger.claim("w", 1, 30) == []
        await ledger.release("watch", "w", now())  # not running any more: no effect
        assert await ledger.claim("w", 1, 30) == []

    async def test_reopen_makes_a_done_job_pending_with_the_new_payload(
        self, ledger: Ledger
    ) -> None:
        conv = "conversation:c1"
        await ledger.add_jobs(
            [job(conv, JobKind.CONVERSATION, payload={"ended": False}, reopen=True)]
        )
        # reopen of a pending job: it runs anyway, with the newest payload
        await ledger.add_jobs(
            [job(conv, JobKind.CONVERSATION, payload={"ended": "soon"}, reopen=True)]
        )
        pending = await ledger.get(conv)
        assert pending is not None
        assert pending.state is JobState.PENDING
        assert pending.payload == {"ended": "soon"}
        await ledger.claim("w", 1, 30)
        await ledger.complete(conv, "w", {"messages": 3})
        assert await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload={"x": 1})]) == 0
        still_done = await ledger.get(conv)
        assert still_done is not None
        assert still_done.state is JobState.DONE
        reopened_n = await ledger.add_jobs(
            [job(conv, JobKind.CONVERSATION, payload={"ended": True}, reopen=True)]
        )
        assert reopened_n == 1
        reopened = await ledger.get(conv)
        assert reopened is not None
        assert reopened.state is JobState.PENDING
        assert reopened.payload == {"ended": True}
        assert [j.key for j in await ledger.claim("w", 1, 30)] == [conv]

    async def test_add_jobs_tells_new_keys_from_reopened_ones(self, ledger: Ledger) -> None:
        conv = "conversation:c9"
        first = await ledger.add_jobs(
            [job("a"), job(conv, JobKind.CONVERSATION, reopen=True), job("a")]
        )
        assert (first.new, first.reopened, first) == (2, 0, 2)
        again = await ledger.add_jobs(
            [job("a"), job("b"), job(conv, JobKind.CONVERSATION, reopen=True)]
        )
        assert (again.new, again.reopened, again) == (1, 1, 2)
        await ledger.claim("w", 5, 30)
        await ledger.complete(conv, "w", {})
        done = await ledger.add_jobs([job(conv, JobKind.CONVERSATION, reopen=True)])
        assert (done.new, done.reopened) == (0, 1)
        nothing = await ledger.add_jobs([])
        assert (nothing.new, nothing.reopened) == (0, 0)

    async def test_reopen_revives_a_dead_job_and_pulls_a_pending_one_forward(
        self,
        ledger: Ledger,
    ) -> None:
        conv = "conversation:c3"
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload={"n": 1})])
        await ledger.claim("w", 1, 30)
        await ledger.fail(conv, "w", "outage", "transient", None)
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload={"n": 2}, reopen=True)])
        revived = await ledger.get(conv)
        assert revived is not None
        assert revived.state is JobState.PENDING
        assert revived.attempts == 0
        assert revived.payload == {"n": 2}

        assert [j.key for j in await ledger.claim("w", 5, 30)] == [conv]

        # a watch scheduled for later is pulled forward by a new event
        hour = datetime.now(UTC) + timedelta(hours=1)
        watch = "conversation:c4"
        await ledger.add_jobs([NewJob(watch, JobKind.CONVERSATION, {}, not_before=hour)])
        assert await ledger.claim("w", 5, 30) == []
        await ledger.add_jobs([NewJob(watch, JobKind.CONVERSATION, {"now": 1}, reopen=True)])
        assert [j.key for j in await ledger.claim("w", 5, 30)] == [watch]

    async def test_reopen_while_running_runs_the_job_once_more(self, ledger: Ledger) -> None:
        conv = "conversation:c2"
        await ledger.add_jobs([job(conv, JobKind.CONVERSATION, payload={"ended": False})])
        await ledger.claim("w", 1, 30)
        assert (
            await ledger.add_jobs(
                [job(conv, JobKind.CONVERSATION, payload={"ended": True}, reopen=True)]
            )
            == 1
        )
        assert await ledger.complete(conv, "w", {"read": 1}) is True
        rerun = await ledger.get(conv)
        assert rerun is not None
        assert rerun.state is JobState.PENDING
        (again,) = await ledger.claim("w", 1, 30)
        assert again.payload == {"ended": True}
        assert await ledger.complete(conv, "w", {"read": 2}) is True
        final = await ledger.get(conv)
        assert final is not None
        assert final.state is JobState.DONE

    async def test_counts_and_listing(self, ledger: Ledger) -> None:
        await ledger.add_jobs([job(f"k{i:02d}") for i in range(12)])
        claimed = await ledger.claim("w", 3, 30)
        await ledger.complete(claimed[0].key, "w", {})
        await ledger.fail(claimed[1].key, "w", "no", "not_found", None)
        counts = await ledger.counts()
        assert counts == {
            JobState.PENDING: 9,
            JobState.RUNNING: 1,
            JobState.DONE: 1,
            JobState.RETRY: 0,
            JobState.DEAD: 1,
        }
        pending = await ledger.list_jobs(JobState.PENDING, limit=5)
        more = await ledger.list_jobs(JobState.PENDING, limit=5, offset=5)
        assert len(pending) == 5
        assert len(more) == 4
        assert not {j.key for j in pending} & {j.key for j in more}
        assert len(await ledger.list_jobs()) == 12

    async def test_rejected_events_are_kept_newest_first(self, ledger: Ledger) -> None:
        await ledger.record_rejected("http", "malformed JSON: x", b'{"broken')
        await ledger.record_rejected("file:e.jsonl:3", "envelope: missing id", "é".encode())
        rows = await ledger.list_rejected()
        assert [r["reason"] for r in rows] == ["envelope: missing id", "malformed JSON: x"]
        assert rows[0]["raw"] == "é"
        assert rows[1]["raw"] == '{"broken'
        assert rows[1]["source"] == "http"
        assert isinstance(rows[0]["received_at"], datetime)
        assert len(await ledger.list_rejected(limit=1)) == 1

    async def test_many_rejected_events_are_kept_in_one_write(self, ledger: Ledger) -> None:
        rows = [("http:1", f"reason {i}", f'{{"n": {i}}}'.encode()) for i in range(500)]
        await ledger.record_rejected_many(rows)
        await ledger.record_rejected_many([])
        kept = await ledger.list_rejected(limit=1000)
        assert len(kept) == 500
        assert {r["reason"] for r in kept} == {f"reason {i}" for i in range(500)}
        assert {r["source"] for r in kept} == {"http:1"}

    async def test_state_survives_close_and_reopen(
        self, ledger: Ledger, ledger_factory: LedgerFactory
    ) -> None:
        await ledger.add_jobs([job("a"), job("b"), job("c", JobKind.TEXT, payload={"text": "olá"})])
        await ledger.claim("w", 1, 30, kinds=[JobKind.ATTACHMENT])
        await ledger.complete("a", "w", {"location": "x"})
        await ledger.record_rejected("http", "bad", b"raw")
        await ledger.close()
        again = ledger_factory()
        await again.open()
        try:
            a, c = await again.get("a"), await again.get("c")
            assert a is not None
            assert c is not None
            assert a.state is JobState.DONE
            assert a.result == {"location": "x"}
            assert c.payload == {"text": "olá"}
            assert (await again.counts())[JobState.PENDING] == 2
            assert [r["reason"] for r in await again.list_rejected()] == ["bad"]
        finally:
            await again.close()

    async def test_has_work_due_counts_running_and_due_jobs_only(self, ledger: Ledger) -> None:
        soon = now() + timedelta(seconds=60)
        later = now() + timedelta(minutes=10)
        watches = (JobKind.CONVERSATION,)
        assert not await ledger.has_work_due(soon, watches)
        await ledger.add_jobs(
            [job("conversation:w", JobKind.CONVERSATION), job("attachment:far", not_before=later)]
        )
        # a waiting watch is ignored, a far attachment is not due yet
        assert not await ledger.has_work_due(soon, watches)
        assert await ledger.has_work_due(later + timedelta(seconds=1), watches)
        assert await ledger.has_work_due(soon, ())
        # a running job always counts, whatever its kind
        assert [j.key for j in await ledger.claim("w", 5, 30)] == ["conversation:w"]
        assert await ledger.has_work_due(soon, watches)
        await ledger.complete("conversation:w", "w", {})
        assert not await ledger.has_work_due(soon, watches)

    async def test_speech_is_counted_once_per_job_key(self, ledger: Ledger) -> None:
        assert await ledger.speech_totals("tel:+351910000001") == SpeechTotals(0, 0.0)
        first = await ledger.record_speech("tel:+351910000001", "attachment:c1:m1:a1", 2.4)
        assert first == SpeechTotals(clips=1, net_speech_s=2.4)
        # the same job again (a re-run after a crash, a duplicate event): nothing added,
        # even when the figure differs (the first one stays)
        again = await ledger.record_speech("tel:+351910000001", "attachment:c1:m1:a1", 9.9)
        assert again == first
        assert await ledger.speech_totals("tel:+351910000001") == first

    async def test_speech_of_two_job_keys_adds_up_per_speaker(self, ledger: Ledger) -> None:
        await ledger.record_speech("ext:alice", "attachment:c1:m1:a1", 2.25)
        total = await ledger.record_speech("ext:alice", "recording:c2:r1", 13.5)
        assert total == SpeechTotals(clips=2, net_speech_s=15.75)
        # another speaker is counted apart, even for the same job key
        other = await ledger.record_speech("ext:bob", "recording:c2:r1", 4.0)
        assert other == SpeechTotals(clips=1, net_speech_s=4.0)
        assert await ledger.speech_totals("ext:alice") == total
        concurrent = await asyncio.gather(
            *(ledger.record_speech("ext:carol", f"attachment:c3:m{i}:a", 1.0) for i in range(8))
        )
        # recorded together, one at a time: the last one counted sees them all
        assert sorted(t.clips for t in concurrent) == list(range(1, 9))
        assert await ledger.speech_totals("ext:carol") == SpeechTotals(8, 8.0)

    async def test_speech_totals_survive_close_and_reopen(
        self, ledger: Ledger, ledger_factory: LedgerFactory
    ) -> None:
        await ledger.record_speech("ext:alice", "attachment:c1:m1:a1", 3.0)
        await ledger.close()
        again = ledger_factory()
        await again.open()
        try:
            assert await again.speech_totals("ext:alice") == SpeechTotals(1, 3.0)
            assert await again.record_speech(
                "ext:alice", "attachment:c1:m1:a1", 3.0
            ) == SpeechTotals(1, 3.0)
        finally:
            await again.close()

    # -- retention and erasure -----------------------------------------------------

    async def _done(self, ledger: Ledger, key: str, result: dict[str, object]) -> None:
        await ledger.add_jobs([job(key, payload={"conversation_id": "c", "text": "secret"})])
        claimed = await ledger.claim("w", 10, 30.0)
        assert [j.key for j in claimed] == [key]
        assert await ledger.complete(key, "w", result)

    async def test_done_jobs_shrink_to_tombstones_that_still_refuse_duplicates(
        self, ledger: Ledger
    ) -> None:
        await self._done(ledger, "d1", {"sha256": "ab" * 32, "sink": "dir", "path": "/x"})
        await ledger.add_jobs([job("p1")])
        later = now() + timedelta(seconds=5)
        assert await ledger.tombstone_done(later, dry_run=True) == 1
        assert (await ledger.get("d1")).payload["text"] == "secret"  # type: ignore[union-attr]
        assert await ledger.tombstone_done(later) == 1
        assert await ledger.tombstone_done(later) == 0  # a second run changes nothing
        stored = await ledger.get("d1")
        assert stored is not None
        assert stored.state is JobState.DONE
        assert stored.payload == TOMBSTONE
        assert stored.result == {"tombstone": True, "sha256": "ab" * 32}
        assert (await ledger.get("p1")).payload == {"key": "p1", "n": 1}  # type: ignore[union-attr]
        assert await ledger.add_jobs([job("d1")]) == 0  # the duplicate is still refused
        assert [k for k, _, _ in await ledger.scan_payloads(None, 10)] == ["p1"]

    async def test_purge_deletes_old_done_jobs_and_rejected_events(self, ledger: Ledger) -> None:
        await self._done(ledger, "d1", {"sha256": "cd" * 32})
        await ledger.add_jobs([job("p1")])
        await ledger.record_rejected("test", "bad", b"{}")
        earlier = now() - timedelta(hours=1)
        assert await ledger.purge_done(earlier) == 0
        assert await ledger.purge_rejected(earlier) == 0
        later = now() + timedelta(seconds=5)
        assert await ledger.purge_done(later, dry_run=True) == 1
        assert await ledger.purge_rejected(later, dry_run=True) == 1
        assert await ledger.get("d1") is not None
        assert await ledger.purge_done(later) == 1
        assert await ledger.purge_rejected(later) == 1
        assert await ledger.get("d1") is None
        assert await ledger.list_rejected() == []
        assert await ledger.get("p1") is not None

    async def test_forgetting_cancels_and_scrubs_whatever_the_state(self, ledger: Ledger) -> None:
        await self._done(ledger, "done", {"sha256": "ef" * 32})
        await ledger.add_jobs([job("pending"), job("other")])
        assert await ledger.forget_jobs(["done", "pending", "missing"], dry_run=True) == 2
        assert (await ledger.get("pending")).state is JobState.PENDING  # type: ignore[union-attr]
        assert await ledger.forget_jobs(["done", "pending", "missing"]) == 2
        assert await ledger.forget_jobs(["done", "pending"]) == 0
        for key in ("done", "pending"):
            stored = await ledger.get(key)
            assert stored is not None
            assert (stored.state, stored.payload) == (JobState.DONE, TOMBSTONE)
            assert stored.result == {"tombstone": True, "forgotten": True}
        assert await ledger.claim("w", 10, 30.0) != []  # "other" is still there to run
        assert await ledger.add_jobs([job("pending")]) == 0

    async def test_rejected_events_keep_no_address_name_or_text(self, ledger: Ledger) -> None:
        raw = (
            b'{"detail": {"eventBody": {"participants": [{"address": "+447700900123",'
            b' "name": "Alex Morgan", "purpose": "customer"}], "text": "my card 4111"}}}'
        )
        await ledger.record_rejected("test", "bad", raw)
        await ledger.record_rejected("test", "bad", b"not json +44 7700 900123 a@b.example")
        kept = " ".join(r["raw"] for r in await ledger.list_rejected())
        for personal in ("7700900123", "7700 900123", "Alex", "4111", "a@b.example"):
            assert personal not in kept
        assert '"purpose": "customer"' in kept  # what is not personal stays for the operator

    async def test_a_scrubbed_completion_leaves_a_tombstone_unless_reopened(
        self, ledger: Ledger
    ) -> None:
        await ledger.add_jobs([job("s1"), job("s2")])
        claimed = {j.key for j in await ledger.claim("w", 10, 30.0)}
        assert claimed == {"s1", "s2"}
        await ledger.add_jobs([job("s2", payload={"again": True}, reopen=True)])
        assert await ledger.complete("s1", "w", {"ok": True}, scrub=True)
        assert await ledger.complete("s2", "w", {"ok": True}, scrub=True)
        scrubbed, rerun = await ledger.get("s1"), await ledger.get("s2")
        assert scrubbed is not None
        assert rerun is not None
        assert (scrubbed.state, scrubbed.payload) == (JobState.DONE, TOMBSTONE)
        assert rerun.state is JobState.PENDING  # reopened while running: it runs again
        assert rerun.payload != TOMBSTONE

    async def test_forgetting_a_speakers_progress(self, ledger: Ledger) -> None:
        await ledger.record_speech("tel:+1", "j1", 3.0)
        await ledger.record_speech("tel:+2", "j2", 4.0)
        assert await ledger.forget_speech(["tel:+1"], dry_run=True) == 1
        assert await ledger.forget_speech(["tel:+1"]) == 1
        assert await ledger.forget_speech(["tel:+1"]) == 0
        assert (await ledger.speech_totals("tel:+1")).clips == 0
        assert (await ledger.speech_totals("tel:+2")).clips == 1


async def check_max_attempts_parks_a_job_whose_worker_keeps_dying(ledger: Ledger) -> None:
    """For a ledger opened with ``max_attempts=1``: a lapsed lease makes the job dead."""
    await ledger.add_jobs([NewJob("poison", JobKind.ATTACHMENT, {})])
    await ledger.claim("w1", 1, 0.01)
    assert await claim_eventually(ledger, "w2", timeout=0.5) == []
    dead = await ledger.get("poison")
    assert dead is not None
    assert dead.state is JobState.DEAD
    assert dead.error_code == "lease_expired"

"""The consent checker's reads: event hints cost nothing, one contact read per period."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from media_bridge.consent import ConsentChecker, ConsentSettings
from media_bridge.genesys import GenesysClient
from media_bridge.identity import SpeakerFacts


class FakeGenesys:
    """Counts reads; answers with a configurable custom field (pure logic under test)."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.contact_reads = 0
        self.conversation_reads = 0

    async def get_external_contact(self, contact_id: str) -> dict[str, Any]:
        self.contact_reads += 1
        await asyncio.sleep(0.01)
        fields = {} if self.answer is None else {"biometricsConsent": self.answer}
        return {"id": contact_id, "customFields": fields}

    async def get_message_conversation(self, conversation_id: str) -> dict[str, Any]:
        self.conversation_reads += 1
        attributes = {} if self.answer is None else {"biometricsConsent": self.answer}
        return {"participants": [{"purpose": "customer", "attributes": attributes}]}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def checker(mode: str, fake: FakeGenesys, clock: Clock, **settings: Any) -> ConsentChecker:
    return ConsentChecker(
        ConsentSettings(mode=mode, **settings),
        cast(GenesysClient, fake),
        clock=clock,
    )


FACTS = SpeakerFacts(external_contact_id="ec-1")


async def test_concurrent_clips_of_one_contact_share_one_read() -> None:
    fake, clock = FakeGenesys("granted"), Clock()
    consent = checker("external_contact", fake, clock, cache_s=60)
    verdicts = await asyncio.gather(
        *(consent.check(conversation_id="c", kind="message", facts=FACTS) for _ in range(5))
    )
    assert {v.verdict for v in verdicts} == {"granted"}
    assert fake.contact_reads == 1
    clock.now = 59
    await consent.check(conversation_id="c", kind="message", facts=FACTS)
    assert fake.contact_reads == 1
    clock.now = 61
    await consent.check(conversation_id="c", kind="message", facts=FACTS)
    assert fake.contact_reads == 2


async def test_an_unknown_answer_is_kept_no_longer_than_a_recheck() -> None:
    fake, clock = FakeGenesys(None), Clock()
    consent = checker("external_contact", fake, clock, cache_s=600, recheck_s=5)
    assert (await consent.check(conversation_id="c", kind="message", facts=FACTS)).verdict == (
        "unknown"
    )
    fake.answer = "granted"
    clock.now = 6
    verdict = await consent.check(conversation_id="c", kind="message", facts=FACTS)
    assert verdict.verdict == "granted"
    assert fake.contact_reads == 2


async def test_no_contact_id_is_unknown_without_a_read() -> None:
    fake = FakeGenesys("granted")
    consent = checker("external_contact", fake, Clock())
    verdict = await consent.check(conversation_id="c", kind="message", facts=SpeakerFacts())
    assert (verdict.verdict, fake.contact_reads) == ("unknown", 0)


async def test_an_event_hint_decides_without_a_read() -> None:
    fake = FakeGenesys("refused")
    consent = checker("participant_attribute", fake, Clock())
    verdict = await consent.check(conversation_id="c", kind="message", facts=None, hint="yes")
    assert (verdict.verdict, verdict.source, fake.conversation_reads) == ("granted", "event", 0)
    verdict = await consent.check(conversation_id="c", kind="message", facts=None, hint=None)
    assert (verdict.verdict, verdict.source, fake.conversation_reads) == (
        "refused",
        "conversation",
        1,
    )


async def test_off_checks_nothing() -> None:
    fake = FakeGenesys("refused")
    consent = checker("off", fake, Clock())
    verdict = await consent.check(conversation_id="c", kind="message", facts=FACTS)
    assert verdict.verdict == "not_checked"
    assert fake.contact_reads == fake.conversation_reads == 0


async def test_consent_reads_rank_with_live_work_whatever_job_makes_them() -> None:
    from media_bridge.jobs.priority import Priority, current, running_as

    seen: list[int] = []

    class Recording(FakeGenesys):
        async def get_external_contact(self, contact_id: str) -> dict[str, Any]:
            seen.append(current())  # the class the pacer sees for this request
            return await super().get_external_contact(contact_id)

        async def get_message_conversation(self, conversation_id: str) -> dict[str, Any]:
            seen.append(current())
            return await super().get_message_conversation(conversation_id)

    fake, clock = Recording("granted"), Clock()
    with running_as(Priority.BACKFILL):  # a backfilled clip's check
        await checker("external_contact", fake, clock).check(
            conversation_id="c", kind="message", facts=FACTS
        )
        await checker("participant_attribute", fake, clock).check(
            conversation_id="c", kind="message", facts=None
        )
        assert current() == Priority.BACKFILL  # the job's own requests keep its class
    assert seen == [Priority.LIVE, Priority.LIVE]

"""One decision of which attachment media types are fetched, for both planners."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_bridge.intake.events import parse_event
from media_bridge.jobs.media_types import is_wanted, wanted_media_types
from media_bridge.jobs.planning import plan_jobs
from media_bridge.types import JobKind

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events"


@pytest.mark.parametrize("values", [["*"], ["all"], ["ALL"], [" * "], [], ["Audio", "all"]])
def test_every_word_for_everything_wants_every_type(values: list[str]) -> None:
    wanted = wanted_media_types(values)
    assert wanted is None
    assert all(is_wanted(t, wanted) for t in ("Audio", "Image", "Video", "File", "*"))


def test_a_listed_type_is_wanted_in_any_case_and_nothing_else() -> None:
    wanted = wanted_media_types(["Audio"])
    assert wanted == frozenset({"audio"})
    assert is_wanted("Audio", wanted)
    assert is_wanted("audio", wanted)
    assert not is_wanted("Image", wanted)


@pytest.mark.parametrize(
    ("values", "kinds"),
    [(["*"], {"Audio", "Image"}), (["all"], {"Audio", "Image"}), (["Audio"], {"Audio"})],
)
def test_the_message_path_plans_what_the_setting_says(values: list[str], kinds: set[str]) -> None:
    parsed = parse_event((FIXTURES / "message_queue_voice_note.json").read_bytes())
    planned = plan_jobs(parsed, wanted_media_types(values))
    attachments = [j for j in planned if j.kind is JobKind.ATTACHMENT]
    assert {j.payload["media_type"] for j in attachments} == kinds

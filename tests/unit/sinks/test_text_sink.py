"""The JSON-lines text sink: one line per key, exactly once, across restarts and torn lines."""

from __future__ import annotations

import json
from pathlib import Path

from media_bridge.sinks.text import JsonlTextSink


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_each_key_is_written_once_even_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nlp" / "texts.jsonl"
    sink = JsonlTextSink(path)
    first = await sink.deliver_text("text:c:m1", {"text": "olá", "conversation_id": "c"})
    again = await sink.deliver_text("text:c:m1", {"text": "olá", "conversation_id": "c"})
    await sink.deliver_text("text:c:m2", {"text": "second"})
    await sink.close()
    assert first["duplicate"] is False
    assert again["duplicate"] is True
    reopened = JsonlTextSink(path)
    assert (await reopened.deliver_text("text:c:m2", {"text": "second"}))["duplicate"] is True
    await reopened.deliver_text("text:c:m3", {"text": "third"})
    await reopened.close()
    assert [(r["key"], r["text"]) for r in lines(path)] == [
        ("text:c:m1", "olá"),
        ("text:c:m2", "second"),
        ("text:c:m3", "third"),
    ]


async def test_a_torn_last_line_is_cut_and_its_record_written_again(tmp_path: Path) -> None:
    path = tmp_path / "texts.jsonl"
    good = json.dumps({"key": "text:c:m1", "text": "a"})
    path.write_text(good + "\n" + '{"key": "text:c:m2", "te')
    sink = JsonlTextSink(path)
    assert (await sink.deliver_text("text:c:m1", {"text": "a"}))["duplicate"] is True
    assert (await sink.deliver_text("text:c:m2", {"text": "b"}))["duplicate"] is False
    await sink.close()
    assert [r["key"] for r in lines(path)] == ["text:c:m1", "text:c:m2"]

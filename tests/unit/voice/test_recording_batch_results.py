"""How a completed batch job's ``results[]`` settle each requested recording."""

from __future__ import annotations

from media_bridge.voice.recording_batch import settle_results


def test_each_pair_settles_to_a_url_or_a_fallback_reason() -> None:
    pairs = [("c", "ok"), ("c", "gone"), ("c", "err"), ("c", "two"), ("c", "video"), ("c", "bare")]
    status = {
        "status": "Completed",
        "results": [
            {
                "conversationId": "c",
                "recordingId": "ok",
                "resultUrl": "https://s/ok",
                "contentType": "audio/wav",
            },
            {"conversationId": "c", "recordingId": "err", "errorMsg": "Failed to retrieve."},
            {"conversationId": "c", "recordingId": "two", "resultUrl": "https://s/1"},
            {"conversationId": "c", "recordingId": "two", "resultUrl": "https://s/2"},
            {
                "conversationId": "c",
                "recordingId": "video",
                "resultUrl": "https://s/v",
                "contentType": "video/webm",
            },
            {"conversationId": "c", "recordingId": "bare", "resultUrl": "https://s/b"},
            {"conversationId": "other", "recordingId": "ok", "resultUrl": "https://s/x"},
            "not an object",
        ],
    }
    settled = settle_results(pairs, status)
    assert settled[("c", "ok")].url == "https://s/ok"
    assert settled[("c", "gone")].fallback == "missing"
    assert settled[("c", "err")].fallback == "error"
    assert settled[("c", "err")].detail == "Failed to retrieve."
    assert settled[("c", "two")].fallback == "several"
    assert settled[("c", "video")].fallback == "format"
    # no contentType: tried, and the downloaded bytes are sniffed before the audio path
    assert settled[("c", "bare")].url == "https://s/b"
    assert set(settled) == set(pairs)

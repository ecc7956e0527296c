from media_bridge.genesys.attachments import attachment_from_message

MESSAGE = {
    "id": "m1",
    "normalizedMessage": {
        "type": "Text",
        "content": [
            {"contentType": "Text", "text": {"body": "hi"}},
            {
                "contentType": "Attachment",
                "attachment": {
                    "id": "a-img",
                    "mediaType": "Image",
                    "url": "https://api-downloads.mypurecloud.ie/api/v2/downloads/img",
                },
            },
            {
                "contentType": "Attachment",
                "attachment": {
                    "id": "a-voice",
                    "mediaType": "Audio",
                    "url": "https://api-downloads.mypurecloud.ie/api/v2/downloads/voice",
                    "mime": "audio/ogg",
                    "sha256": "ab" * 32,
                    "filename": "voice.ogg",
                    "contentSizeBytes": 1234,
                },
            },
        ],
    },
}


def test_finds_the_attachment_by_media_id() -> None:
    found = attachment_from_message(MESSAGE, "a-voice")
    assert found == {
        "id": "a-voice",
        "url": "https://api-downloads.mypurecloud.ie/api/v2/downloads/voice",
        "mime": "audio/ogg",
        "sha256": "ab" * 32,
        "contentSizeBytes": 1234,
        "filename": "voice.ogg",
        "mediaType": "Audio",
    }
    image = attachment_from_message(MESSAGE, "a-img")
    assert image is not None
    assert image["mime"] is None
    assert image["contentSizeBytes"] is None


def test_missing_or_malformed_gives_none() -> None:
    assert attachment_from_message(MESSAGE, "nope") is None
    assert attachment_from_message({}, "a-voice") is None
    assert attachment_from_message({"normalizedMessage": {"content": "x"}}, "a") is None
    assert attachment_from_message({"normalizedMessage": {"content": [None, 3]}}, "a") is None

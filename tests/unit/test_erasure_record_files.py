"""The dir sink's erasure records (``_erasures/<key>.json``) are private like the
deliveries beside them and never written through a planted symlink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from media_bridge.erasure.files_part import write_erasure_record


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_an_erasure_record_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    assert write_erasure_record(tmp_path, "erasure:1", {"subject": "x"}, dry_run=False)
    folder = tmp_path / "_erasures"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "erasure_1.json").stat().st_mode & 0o777 == 0o600
    assert not write_erasure_record(tmp_path, "erasure:1", {"subject": "y"}, dry_run=False)


def test_a_planted_symlink_at_the_record_is_replaced_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "_erasures"
    folder.mkdir()
    outside = tmp_path / "outside.json"  # does not exist yet: a dangling link
    (folder / "erasure_2.json").symlink_to(outside)
    assert write_erasure_record(tmp_path, "erasure:2", {"subject": "x"}, dry_run=False)
    assert not outside.exists()
    record = folder / "erasure_2.json"
    assert not record.is_symlink()
    assert record.stat().st_mode & 0o777 == 0o600

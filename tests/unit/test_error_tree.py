"""The job error tree: one module, a branch decides the retry, codes tell dead jobs apart.

The tree is found by walking every ``media_bridge`` module, so a ``BridgeError`` defined
anywhere else, or a subclass that flips its branch's ``retryable``, fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime

import pytest

import media_bridge
from media_bridge import errors
from media_bridge.errors import (
    MEDIA_REFUSALS,
    TOO_LARGE,
    BridgeError,
    CredentialsRejected,
    PayloadMalformed,
    PermissionMissing,
    RateLimited,
    RecordingNotReady,
    RejectedMedia,
    TooLarge,
    Transient,
)
from media_bridge.types import Job, JobKind, JobState
from media_bridge.worker.loop import RetryPolicy

#: each branch (a child of BridgeError) and whether its jobs are tried again
BRANCHES: dict[str, bool] = {
    "BadInput": False,
    "PermissionMissing": False,
    "NotFound": False,
    "RecordingUnavailable": False,
    "DeliveryRejected": False,
    "UrlExpired": True,
    "RateLimited": True,
    "CredentialsRejected": True,
    "Transient": True,
    "Unexpected": True,
}


def _tree() -> list[type[BridgeError]]:
    for found in pkgutil.walk_packages(media_bridge.__path__, "media_bridge."):
        if not found.name.endswith("__main__"):
            importlib.import_module(found.name)
    seen: list[type[BridgeError]] = []
    todo: list[type[BridgeError]] = [BridgeError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


TREE = _tree()


def _branches(cls: type[BridgeError]) -> set[type[BridgeError]]:
    return {c for c in cls.__mro__ if BridgeError in getattr(c, "__bases__", ())}


def _instance(cls: type[BridgeError]) -> BridgeError:
    if issubclass(cls, PermissionMissing):
        return cls(["a:b:c"], any_of=False)
    if issubclass(cls, RateLimited):
        return cls(1.0)
    if issubclass(cls, RejectedMedia):
        return cls("empty", "the body is empty")
    if issubclass(cls, PayloadMalformed):
        return cls("attachment", "size", "is 'x', not a number")
    return cls("detail")


def _job(attempts: int) -> Job:
    now = datetime.now(UTC)
    return Job("k", JobKind.ATTACHMENT, {}, JobState.RUNNING, attempts, now, now, now)


def test_every_job_error_lives_in_the_errors_module() -> None:
    assert {cls.__module__ for cls in TREE} == {"media_bridge.errors"}


def test_the_branches_are_the_documented_ones() -> None:
    assert {c.__name__ for c in BridgeError.__subclasses__()} == set(BRANCHES)


@pytest.mark.parametrize("cls", TREE[1:], ids=lambda c: c.__name__)
def test_a_class_retries_as_its_branch_says(cls: type[BridgeError]) -> None:
    (branch,) = _branches(cls)  # no class mixes two branches
    assert cls.retryable is BRANCHES[branch.__name__]
    retry_at = RetryPolicy(max_attempts=8).next_attempt(_job(1), _instance(cls))
    assert (retry_at is not None) is BRANCHES[branch.__name__]


def test_the_two_flips_are_gone() -> None:
    assert not issubclass(RecordingNotReady, Transient)
    assert not issubclass(CredentialsRejected, PermissionMissing)


@pytest.mark.parametrize("cls", TREE, ids=lambda c: c.__name__)
def test_each_class_has_its_own_code_and_is_drawn(cls: type[BridgeError]) -> None:
    assert "code" in vars(cls), f"{cls.__name__} inherits its parent's code"
    assert cls.__name__ in (errors.__doc__ or "")


def test_codes_are_unique_but_one_too_large() -> None:
    owners: dict[str, list[str]] = {}
    for cls in TREE:
        owners.setdefault(cls.code, []).append(cls.__name__)
    shared = {code for code, names in owners.items() if len(names) > 1}
    assert shared <= {TOO_LARGE}, {code: owners[code] for code in shared}
    assert all(issubclass(getattr(errors, n), TooLarge) for n in owners[TOO_LARGE])
    # a refused body's reasons are codes of their own, but for the one too_large
    assert set(owners) & MEDIA_REFUSALS == {TOO_LARGE}


@pytest.mark.parametrize("reason", sorted(MEDIA_REFUSALS))
def test_a_refused_body_records_its_reason_as_its_code(reason: str) -> None:
    error = RejectedMedia(reason, "detail")  # type: ignore[arg-type]
    assert (error.code, error.reason, error.retryable) == (reason, reason, False)

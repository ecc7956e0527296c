"""The paths of the settings, how each is named in the environment, and the nearest valid
name to a mistyped one: shared by the settings models, the loader and the commands without
importing ``config``."""

from __future__ import annotations

import difflib
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

ENV_PREFIX = "MEDIA_BRIDGE_"
#: variables of the test harness (``MEDIA_BRIDGE_TEST_PG_URL``), not settings
IGNORED_PREFIXES = ("MEDIA_BRIDGE_TEST_",)
#: the Genesys SDK's and CLI's names, accepted as aliases
GENESYS_CLOUD_ALIASES: dict[str, tuple[str, ...]] = {
    "GENESYS_CLOUD_CLIENT_ID": ("genesys", "client_id"),
    "GENESYS_CLOUD_CLIENT_SECRET": ("genesys", "client_secret"),
    "GENESYS_CLOUD_REGION": ("genesys", "region"),
}

Path_ = tuple[str, ...]
Kind = Literal["leaf", "list", "dict", "model"]


def _kind(annotation: Any) -> tuple[Kind, type[BaseModel] | None]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _kind(args[0]) if len(args) == 1 else ("leaf", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin in (list, set, tuple, frozenset):
        return "list", None
    if origin is dict:
        return "dict", None
    return "leaf", None


def field_tree(model: type[BaseModel], prefix: Path_ = ()) -> dict[Path_, Kind]:
    """Every setting path below ``model`` and what it holds (a nested model, a list, ...)."""
    found: dict[Path_, Kind] = {}
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        kind, sub = _kind(info.annotation)
        found[path] = kind
        if sub is not None:
            found.update(field_tree(sub, path))
    return found


def env_name(path: Path_) -> str:
    return ENV_PREFIX + "__".join(path).upper()


def suggest(word: str, candidates: list[str]) -> str | None:
    """The nearest candidate: one that differs only in underscores, else difflib's best."""

    def squash(text: str) -> str:
        return text.replace("_", "").replace(".", "").lower()

    for candidate in candidates:
        if squash(candidate) == squash(word):
            return candidate
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_setting(name: str, candidates: list[str], where: str = "") -> str:
    best = suggest(name, candidates)
    hint = f"did you mean {best}?" if best else "see the README's Configuration section"
    return f"unknown setting {name}{where} ({hint})"

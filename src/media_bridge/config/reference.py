"""The configuration reference, generated from the settings models.

``make config-docs`` writes ``docs/configuration.md`` from this module and
``tests/unit/test_config_reference.py`` fails when the committed file differs, so the
reference cannot drift from the code. A setting's meaning is its ``Field(description=...)``
or the ``#:`` comment above it in the model's source (the Sphinx attribute-comment
convention, which is how the models are documented).
"""

from __future__ import annotations

import enum
import inspect
import re
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from media_bridge.config import Settings, env_name

_COMMENT = re.compile(r"^\s*#:\s?(.*)$")
_ASSIGN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*:")


@dataclass(frozen=True)
class Entry:
    """One leaf setting as the reference shows it."""

    path: tuple[str, ...]
    env: str
    default: str
    allowed: str
    meaning: str
    secret: bool


def _comments(model: type[BaseModel]) -> dict[str, str]:
    """``#:`` comment blocks directly above each field of ``model`` (and its bases)."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        try:
            source = textwrap.dedent(inspect.getsource(cls))
        except (OSError, TypeError):
            continue
        block: list[str] = []
        for line in source.splitlines():
            comment = _COMMENT.match(line)
            if comment:
                block.append(comment.group(1).strip())
                continue
            assign = _ASSIGN.match(line)
            if assign and block:
                found[assign.group(1)] = " ".join(block)
            if line.strip():
                block = []
    return found


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _model_of(args[0]) if len(args) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in get_args(annotation))


def _allowed(annotation: Any, info: FieldInfo) -> str:
    parts: list[str] = []
    literals = _literals(annotation)
    if literals:
        parts.append(", ".join(f"`{value}`" for value in literals))
    for rule in info.metadata:
        if isinstance(rule, Gt):
            parts.append(f"> {rule.gt}")
        elif isinstance(rule, Ge):
            parts.append(f">= {rule.ge}")
        elif isinstance(rule, Lt):
            parts.append(f"< {rule.lt}")
        elif isinstance(rule, Le):
            parts.append(f"<= {rule.le}")
    return "; ".join(parts)


def _literals(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    values: list[Any] = []
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            values.extend(_literals(arg))
    return values


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "(required)"
    else:
        value = info.default
    if value is None:
        return "none"
    if isinstance(value, SecretStr):
        return "(set)"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        if not value:
            return "empty"
        shown = sorted(value) if isinstance(value, (set, frozenset)) else value
        if isinstance(shown, dict):
            return f"`{shown}`"
        return ", ".join(f"`{item}`" for item in shown)
    return f"`{value}`"


def entries(model: type[BaseModel] = Settings, prefix: tuple[str, ...] = ()) -> Iterator[Entry]:
    """Every leaf setting of ``model``, in declaration order."""
    comments = _comments(model)
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        nested = _model_of(info.annotation)
        if nested is not None:
            yield from entries(nested, path)
            continue
        meaning = info.description or comments.get(name, "")
        yield Entry(
            path=path,
            env=env_name(path),
            default=_default(info),
            allowed=_allowed(info.annotation, info),
            meaning=meaning,
            secret=_is_secret(info.annotation),
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


HEADER = """\
# Configuration reference

Generated from the settings models by `make config-docs`
(`python -m media_bridge.config.reference`); a test fails when this file and the code
disagree, so edit the models' `#:` comments, not this file.

Every setting is read from, in order of precedence: a command-line flag where one exists, the
environment variable shown (prefix `MEDIA_BRIDGE_`, sections joined by `__`), the TOML file
given with `--config` (the section and key of the dotted path), and the default. Every setting
also takes `<VARIABLE>_FILE=/path` (the value is read from that file; meant for secrets,
marked *secret* below). Lists take JSON or a comma list. Durations are in seconds.

Relative paths, such as the default ledger `sqlite:///var/media-bridge/ledger.db` and the
default dir sink `var/media-bridge/out`, are relative to the working directory of the
process (`sqlite:////abs/path.db`, with four slashes, is absolute).
"""


def render() -> str:
    """The whole reference as markdown."""
    lines = [HEADER]
    section: str | None = None
    for entry in entries():
        top = entry.path[0] if len(entry.path) > 1 else "general"
        if top != section:
            section = top
            lines.append(f"\n## `{top}`\n")
            lines.append("| setting | environment variable | default | allowed | meaning |")
            lines.append("|---|---|---|---|---|")
        meaning = entry.meaning + (" *secret*" if entry.secret else "")
        lines.append(
            f"| `{'.'.join(entry.path)}` | `{entry.env}` | {_cell(entry.default)} | "
            f"{_cell(entry.allowed)} | {_cell(meaning.strip())} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()

"""Check JSON against the official SDK's models (sdk-reference.json, SDK 269.0.0).

Every field present must exist in the model, carry the JSON type the SDK declares, and,
where the SDK lists enum values, hold one of them. Nested models are checked recursively.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

REFERENCE = json.loads((Path(__file__).parent / "sdk-reference.json").read_text())
MODELS: dict[str, Any] = REFERENCE["models"]

#: enum lists in the SDK known to be narrower than the live API (GENESYS.md / VOICE.md)
KNOWN_NARROW_ENUMS = {("MessageMediaAttachment", "mediaType")}


def _check_type(value: Any, type_name: str, where: str, problems: list[str]) -> None:
    if value is None:
        return
    list_match = re.fullmatch(r"list\[(.+)\]", type_name)
    dict_match = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if list_match:
        if not isinstance(value, list):
            problems.append(f"{where}: expected list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check_type(item, list_match.group(1), f"{where}[{i}]", problems)
    elif dict_match:
        if not isinstance(value, dict):
            problems.append(f"{where}: expected object, got {type(value).__name__}")
            return
        for key, item in value.items():
            _check_type(item, dict_match.group(1), f"{where}.{key}", problems)
    elif type_name == "str":
        if not isinstance(value, str):
            problems.append(f"{where}: expected string, got {value!r}")
    elif type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}: expected integer, got {value!r}")
    elif type_name == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{where}: expected number, got {value!r}")
    elif type_name == "bool":
        if not isinstance(value, bool):
            problems.append(f"{where}: expected boolean, got {value!r}")
    elif type_name == "datetime":
        if not isinstance(value, str):
            problems.append(f"{where}: expected ISO datetime string, got {value!r}")
        else:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                problems.append(f"{where}: not an ISO datetime: {value!r}")
    elif type_name == "object":
        return
    elif type_name in MODELS:
        check_model(value, type_name, where, problems)
    else:
        problems.append(f"{where}: unknown SDK type {type_name}")


def check_model(
    value: Any, model: str, where: str = "$", problems: list[str] | None = None
) -> list[str]:
    """Problems found in ``value`` as an instance of SDK ``model`` (empty list = conformant)."""
    problems = [] if problems is None else problems
    spec = MODELS[model]
    if not isinstance(value, dict):
        problems.append(f"{where}: expected {model} object, got {type(value).__name__}")
        return problems
    fields: dict[str, str] = spec["fields"]
    enums: dict[str, list[str]] = spec.get("enums", {})
    for key, item in value.items():
        if key not in fields:
            problems.append(f"{where}.{key}: not a field of {model}")
            continue
        _check_type(item, fields[key], f"{where}.{key}", problems)
        if key in enums and item is not None and (model, key) not in KNOWN_NARROW_ENUMS:
            values = item if isinstance(item, list) else [item]
            for v in values:
                if v not in enums[key]:
                    problems.append(f"{where}.{key}: {v!r} not in {model}.{key} enum")
    return problems


def assert_conforms(value: Any, type_name: str) -> None:
    problems: list[str] = []
    _check_type(value, type_name, "$", problems)
    assert not problems, "\n".join(problems)

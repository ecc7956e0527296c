"""The CloudFormation templates under ``deploy/aws/``, read the way CloudFormation reads them
(short forms such as ``!Ref`` become ``{"Ref": ...}``), for the lint and deployment tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode.cfn_yaml import loads  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
AWS_DIR = ROOT / "deploy" / "aws"
SQS_TEMPLATE = AWS_DIR / "eventbridge-sqs.yaml"
API_DESTINATION_TEMPLATE = AWS_DIR / "eventbridge-api-destination.yaml"
TEMPLATES = (SQS_TEMPLATE, API_DESTINATION_TEMPLATE)


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain JSON data (cfn-lint's YAML loader, without its node types)."""
    data: dict[str, Any] = json.loads(json.dumps(loads(path.read_text(), str(path))))
    return data


def resource_types(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> resource type."""
    return {name: str(r["Type"]) for name, r in template["Resources"].items()}

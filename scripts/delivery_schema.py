"""Write ``docs/delivery-metadata.schema.json`` from ``media_bridge.sinks.metadata``.

``make schema`` runs it; ``tests/unit/test_delivery_schema.py`` fails when the committed
file and the model disagree, so the published contract cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from media_bridge.sinks.metadata import json_schema_text

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "delivery-metadata.schema.json"


def main() -> int:
    SCHEMA_PATH.write_text(json_schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One emulated org: its state, its seeded content and (optionally) its servers."""

from __future__ import annotations

from datetime import datetime

from genesys_emulator.config import EmulatorConfig
from genesys_emulator.scenario import ScenarioBuilder
from genesys_emulator.state import OrgState


class Emulator:
    """State plus scenario builder (``EmulatorServers(state, builder)`` serves them)."""

    def __init__(self, config: EmulatorConfig | None = None, anchor: datetime | None = None):
        self.config = config or EmulatorConfig()
        self.state = OrgState(self.config)
        self.builder = ScenarioBuilder(self.state, self.config.scenario, anchor)
        self.builder.populate()

"""``media-bridge audiohook-client``: the AudioHook client simulator.

Exit code 0 when every session met the protocol (and the expected outcome), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

SCENARIOS = ("basic", "pause", "discard", "update", "error", "probe", "faults", "drop")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audiohook-client",
        help="simulate Genesys against an AudioHook server and check its replies",
        description="Stream a WAV file or generated audio to an AudioHook server as Genesys "
        "would, and check every server message field by field.",
    )
    parser.add_argument("uri", help="ws:// or wss:// URL of the AudioHook endpoint")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--client-secret", help="base64 client secret (signs the request)")
    parser.add_argument("--wav", help="audio file to stream (stereo: customer, agent)")
    parser.add_argument("--duration", type=float, default=10.0, help="generated audio seconds")
    parser.add_argument("--format", choices=["PCMU", "L16"], default="PCMU")
    parser.add_argument("--mono", action="store_true", help="offer the customer channel only")
    parser.add_argument("--offer-all", action="store_true", help="offer stereo and both monos")
    parser.add_argument("--scenario", choices=SCENARIOS, default="basic")
    parser.add_argument("--sessions", type=int, default=1, help="concurrent sessions (load)")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds to start them over")
    parser.add_argument("--fast", action="store_true", help="do not pace at real time")
    parser.add_argument("--frame-ms", type=int, default=200)
    parser.add_argument("--ping-interval", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print full reports as JSON")
    parser.set_defaults(func=run)


def scenario_config(name: str, cfg: Any) -> None:
    """Fill the actions and the expected outcome of a named scenario."""
    from media_bridge.audiohook.client import Action

    d = cfg.duration_s
    if name == "pause":
        cfg.actions = [Action(d * 0.3, "pause", d * 0.2)]
    elif name == "discard":
        cfg.actions = [Action(d * 0.3, "discard", d * 0.2)]
    elif name == "update":
        cfg.actions = [Action(d * 0.5, "update", "es-ES")]
    elif name == "error":
        cfg.actions = [Action(d * 0.5, "error")]
    elif name == "probe":
        cfg.probe = True
    elif name == "faults":
        cfg.actions = [Action(d * 0.3, "partial_frame")]
        cfg.expect_disconnect = "error"
    elif name == "drop":
        cfg.actions = [Action(d * 0.5, "drop")]


def run(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from media_bridge.audiohook.audio_source import load_call
    from media_bridge.audiohook.client import ClientConfig, run_many, summarize

    audio = load_call(Path(args.wav)) if args.wav else None
    duration = len(audio[0]) / 8000 if audio is not None else args.duration
    configs = []
    for _ in range(args.sessions):
        cfg = ClientConfig(
            uri=args.uri,
            api_key=args.api_key,
            client_secret=args.client_secret,
            media_format=args.format,
            stereo=not args.mono,
            offer_all=args.offer_all,
            frame_ms=args.frame_ms,
            realtime=not args.fast,
            duration_s=duration,
            audio=audio,
            ping_interval_s=args.ping_interval,
        )
        scenario_config(args.scenario, cfg)
        configs.append(cfg)
    reports = asyncio.run(run_many(configs, args.ramp))
    if args.json:
        print(json.dumps([r.__dict__ for r in reports], indent=2, default=str))
    for r in reports:
        for v in r.violations + r.notes:
            print(f"{r.session_id}: {v}")
        if r.http_status is not None:
            print(f"{r.session_id}: upgrade refused with HTTP {r.http_status}")
    print(json.dumps(summarize(reports)))
    return 0 if all(r.ok for r in reports) else 1

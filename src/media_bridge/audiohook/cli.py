"""``media-bridge audiohook``: serve the AudioHook Monitor protocol.

Settings are ``Settings.audiohook``: env ``MEDIA_BRIDGE_AUDIOHOOK__*`` (the single-underscore
names of earlier releases still work, with a warning) or ``[audiohook]`` in ``--config``;
flags override them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audiohook",
        help="serve AudioHook Monitor (live call audio -> biometrics sink)",
        description="Serve the Genesys AudioHook Monitor protocol over WebSocket and deliver "
        "the customer channel to the biometrics sink while calls run.",
    )
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--path", help="WebSocket path (default /api/v1/audiohook/ws)")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY[=SECRET]",
        help="an accepted API key, optionally with its base64 client secret (repeatable)",
    )
    parser.add_argument("--auth-failure-mode", choices=["http", "disconnect"])
    parser.add_argument("--sink", choices=["dir", "http"])
    parser.add_argument("--sink-dir")
    parser.add_argument("--sink-url")
    parser.add_argument("--chunk-mode", choices=["speech", "audio"])
    parser.add_argument("--chunk-seconds", type=float)
    parser.add_argument("--pause-after-speech", type=float, dest="pause_after_speech_s")
    parser.add_argument("--keep-agent", action="store_true", default=None)
    parser.add_argument("--sample-rate", type=int)
    parser.add_argument(
        "--operations-port",
        type=int,
        help="port of /healthz, /readyz and /metrics (0 = off; default 9109)",
    )
    parser.add_argument("--log-level")
    parser.add_argument(
        "--config", type=Path, help="TOML settings file ([audiohook]; env vars override it)"
    )
    parser.set_defaults(func=run)


def build_settings(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from media_bridge.audiohook.settings import AudioHookSettings
    from media_bridge.config import load_settings
    from media_bridge.errors import ConfigError

    settings = load_settings(getattr(args, "config", None)).audiohook
    update: dict[str, Any] = {}
    for name in (
        "host",
        "port",
        "path",
        "auth_failure_mode",
        "chunk_mode",
        "chunk_seconds",
        "pause_after_speech_s",
        "keep_agent",
        "sample_rate",
        "log_level",
    ):
        value = getattr(args, name, None)
        if value is not None:
            update[name] = value
    if args.api_key:
        keys = dict(settings.api_keys)
        for item in args.api_key:
            key, _, secret = item.partition("=")
            keys[key] = secret or None
        update["api_keys"] = keys
    sink = settings.sink.model_copy()
    if args.sink:
        sink.kind = args.sink
    if args.sink_dir:
        sink.dir_path = Path(args.sink_dir)
    if args.sink_url:
        sink.http_url = args.sink_url
    update["sink"] = sink.model_dump()
    if getattr(args, "operations_port", None) is not None:
        update["operations"] = settings.operations.model_dump() | {"port": args.operations_port}
    try:
        return AudioHookSettings.model_validate(settings.model_dump() | update)
    except ValidationError as exc:
        lines = [
            f"audiohook.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError("; ".join(lines)) from None


def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    from media_bridge.audiohook.metrics import REGISTRY
    from media_bridge.audiohook.server import AudioHookServer
    from media_bridge.observability import configure_logging
    from media_bridge.operations.port import serving_operations

    settings = build_settings(args)
    configure_logging(settings.log_level)
    if not settings.api_keys:
        from media_bridge.errors import ConfigError

        raise ConfigError(
            "audiohook: no API keys configured (--api-key or MEDIA_BRIDGE_AUDIOHOOK__API_KEYS)"
        )

    async def main() -> None:
        server = AudioHookServer(settings)
        await server.start()
        ops = settings.operations
        try:
            readiness = server.readiness(ops.check_timeout_s)
            async with serving_operations(ops, readiness, registry=REGISTRY) as url:
                listening = {"listening": f"ws://{settings.host}:{server.port}{settings.path}"}
                print(json.dumps({**listening, "operations": url}), flush=True)
                stopping = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, stopping.set)
                await stopping.wait()
                # a live call is told and its audio delivered before the process exits
                await server.drain(settings.shutdown_grace_s)
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0

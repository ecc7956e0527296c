"""`genesys-emulator` (also `python -m genesys_emulator`, `media-bridge emulator`): run the
Genesys Cloud emulator from the command line."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import get_args

from genesys_emulator import __version__
from genesys_emulator.config import (
    ALL_CHANNELS,
    EmulatorConfig,
    FaultConfig,
    MessagingChannel,
    OAuthClientConfig,
    ScenarioConfig,
    default_clients,
)

DESCRIPTION = (
    "Serve one emulated Genesys Cloud org with seeded conversations, real audio "
    "attachments, recordings and transcripts, and emit its events."
)


def epilog() -> str:
    """The default OAuth clients (id / secret: permissions) and the admin API."""
    lines = ["Default OAuth clients (replaced when --client is given):"]
    for client in default_clients():
        lines.append(f"  {client.client_id} / {client.client_secret}")
        perms = ", ".join(sorted(client.permissions))
        lines.append(textwrap.fill(perms, 88, initial_indent=" " * 6, subsequent_indent=" " * 6))
    lines.append("Admin API: http://<api host>/__emulator__/ (faults, ratelimit, expire-links,")
    lines.append("  expire-tokens, conversations, recordings, events, stats, urls).")
    return "\n".join(lines)


def build_parser(prog: str = "genesys-emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "genesys-emulator") -> int:
    """The console script: parse ``argv`` (default: the command line) and serve."""
    return run(build_parser(prog).parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options, one argument group each."""
    _add_hosts(parser)
    _add_auth(parser)
    _add_faults(parser)
    _add_content(parser)


def _add_hosts(parser: argparse.ArgumentParser) -> None:
    net = parser.add_argument_group("hosts")
    net.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    net.add_argument("--login-port", type=int, default=0, help="login host port (0 = free)")
    net.add_argument("--api-port", type=int, default=0, help="api host port (0 = free)")
    net.add_argument("--downloads-port", type=int, default=0, help="api-downloads port (0 = free)")
    net.add_argument("--storage-port", type=int, default=0, help="signed-URL storage port")
    net.add_argument(
        "--single-port",
        type=int,
        default=None,
        help="serve all hosts on this port, told apart by Host: login./api./api-downloads./"
        "storage.<domain> (names must resolve to this machine)",
    )
    net.add_argument("--domain", default="emulator.local", help="domain for --single-port")
    net.add_argument(
        "--operations-port",
        type=int,
        default=None,
        help="serve /healthz, /readyz and /metrics on this port (0 = free; default: none)",
    )


def _add_auth(parser: argparse.ArgumentParser) -> None:
    auth = parser.add_argument_group("auth and limits")
    auth.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET:PERM1,PERM2",
        help="add an OAuth client (repeatable); replaces the defaults when given",
    )
    auth.add_argument("--token-lifetime", type=float, default=86399.0, help="token seconds")
    auth.add_argument("--link-ttl", type=float, default=600.0, help="download link seconds")
    auth.add_argument("--url-ttl", type=float, default=300.0, help="signed URL seconds")
    auth.add_argument("--expired-status", type=int, choices=(403, 404), default=403)
    auth.add_argument(
        "--rate-limit", type=int, default=300, help="requests per rolling window, per token"
    )
    auth.add_argument("--rate-window", type=float, default=60.0, help="rate window seconds")
    auth.add_argument(
        "--no-rate-limit-downloads",
        dest="rate_limit_downloads",
        action="store_false",
        help="api-downloads requests do not count against the rate limit",
    )


def _add_faults(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=float, default=0.0)
    faults.add_argument("--jitter-ms", type=float, default=0.0)
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of 500/503")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="share of closed sockets")
    faults.add_argument("--truncate-rate", type=float, default=0.0, help="share of cut bodies")
    faults.add_argument("--fault-seed", type=int, default=0)


def _add_content(parser: argparse.ArgumentParser) -> None:
    content = parser.add_argument_group("content and events")
    content.add_argument("--seed", type=int, default=1, help="scenario seed")
    content.add_argument("--conversations", type=int, default=6, help="messaging conversations")
    content.add_argument("--calls", type=int, default=2, help="voice conversations")
    content.add_argument(
        "--channels", default=",".join(ALL_CHANNELS), help="comma list of messaging channels"
    )
    content.add_argument("--event-path", choices=("message", "detail", "both"), default="both")
    content.add_argument(
        "--no-topic-media",
        dest="topic_media",
        action="store_false",
        help="leave messages[].media[] out of message-topic events (ids and metadata only)",
    )
    content.add_argument("--transcoding-delay", type=float, default=0.0, help="202 seconds")
    content.add_argument("--customer-channel", choices=("left", "right"), default="left")
    content.add_argument("--media-uri-keys", choices=("S", "channels"), default="S")
    content.add_argument(
        "--event-sink",
        action="append",
        default=[],
        metavar="URL",
        help="file:///path.jsonl, stdout:, http(s)://... (repeatable); scenario events go here",
    )


def parse_client(spec: str) -> OAuthClientConfig:
    client_id, secret, perms = [*spec.split(":", 2), "", ""][:3]
    if not client_id or not secret:
        raise SystemExit(f"--client needs ID:SECRET[:PERMS], got {spec!r}")
    return OAuthClientConfig(client_id, secret, frozenset(p for p in perms.split(",") if p))


def parse_channels(spec: str) -> tuple[MessagingChannel, ...]:
    """``WhatsApp,open`` -> ("whatsapp", "open"): names case-insensitively, unknown refused."""
    known: tuple[MessagingChannel, ...] = get_args(MessagingChannel)
    channels: list[MessagingChannel] = []
    for name in (c.strip().lower() for c in spec.split(",") if c.strip()):
        channel = next((k for k in known if k == name), None)
        if channel is None:
            raise SystemExit(f"--channels: unknown channel {name!r}; one of {', '.join(known)}")
        channels.append(channel)
    return tuple(channels)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        bind_host=args.host,
        login_port=args.login_port,
        api_port=args.api_port,
        downloads_port=args.downloads_port,
        storage_port=args.storage_port,
        single_port=args.single_port,
        operations_port=args.operations_port,
        domain=args.domain,
        clients=[parse_client(c) for c in args.client] or default_clients(),
        token_lifetime_s=args.token_lifetime,
        download_link_ttl_s=args.link_ttl,
        signed_url_ttl_s=args.url_ttl,
        expired_url_status=args.expired_status,
        rate_limit_requests=args.rate_limit,
        rate_limit_window_s=args.rate_window,
        rate_limit_downloads=args.rate_limit_downloads,
        faults=FaultConfig(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            truncate_rate=args.truncate_rate,
            seed=args.fault_seed,
        ),
        scenario=ScenarioConfig(
            seed=args.seed,
            messaging_conversations=args.conversations,
            voice_conversations=args.calls,
            channels=parse_channels(args.channels),
            event_path=args.event_path,
            topic_media=args.topic_media,
        ),
        transcoding_delay_s=args.transcoding_delay,
        customer_channel=args.customer_channel,
        media_uri_keys=args.media_uri_keys,
        event_sinks=list(args.event_sink),
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from genesys_emulator.emulator import Emulator
    from genesys_emulator.events import emit_for_conversations
    from genesys_emulator.server import EmulatorServers

    config = config_from_args(args)
    emulator = Emulator(config)
    servers = EmulatorServers(emulator.state, emulator.builder)
    urls = emulator.state.public_urls
    client = config.clients[0]
    print("Genesys Cloud emulator")
    for name in ("login", "api", "downloads", "storage"):
        print(f"  {name:<10} {urls[name]}")
    print(f"  admin      {urls['api']}/__emulator__/stats")
    if servers.operations_url is not None:
        print(f"  operations {servers.operations_url} (/healthz, /readyz, /metrics)")
    print("Environment for the bridge:")
    print(f"  export MEDIA_BRIDGE_GENESYS__LOGIN_URL={urls['login']}")
    print(f"  export MEDIA_BRIDGE_GENESYS__API_URL={urls['api']}")
    print(f"  export MEDIA_BRIDGE_GENESYS__DOWNLOADS_URL={urls['downloads']}")
    print(f"  export MEDIA_BRIDGE_GENESYS__CLIENT_ID={client.client_id}")
    print(f"  export MEDIA_BRIDGE_GENESYS__CLIENT_SECRET={client.client_secret}")
    print(f"Conversations: {len(emulator.state.conversations)}; Ctrl-C to stop.", flush=True)

    async def main() -> None:
        serving = asyncio.create_task(servers.serve())
        while not servers.started():  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
        with emulator.state.lock:
            conversations = list(emulator.state.conversations.values())
        await emit_for_conversations(emulator.state, conversations)
        await serving

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        servers.close_sockets()
        emulator.state.close()
    return 0

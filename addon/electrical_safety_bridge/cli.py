"""The command line: the installer's tools and the service entry points.

Each command prints what a person needs and exits 0 on success, 1 on a problem it can
name (a bad profile, a silent unit), and 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .bus.bus_settings import BusSettings, DeviceSpec
from .bus.scheduler import Bus
from .errors import BridgeError, FileProblems, ProfileError, ProfileIncomplete
from .modbus.lines import line_for
from .modbus.scan import scan
from .modbus.transport import ModbusTransport
from .profiles.loader import (
    CatalogueEntry,
    catalogue,
    find_profile,
    load_profile_file,
    unreadable_model_note,
    user_entries,
)
from .profiles.model import Profile


def _add_line_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", metavar="HOST:PORT", help="a Modbus TCP gateway")
    where.add_argument(
        "--rtu-over-tcp", metavar="HOST:PORT", help="a gateway passing raw RTU frames over TCP"
    )
    where.add_argument(
        "--serial", metavar="PATH", help="an RS485 adapter, e.g. /dev/serial/by-id/…"
    )
    parser.add_argument("--baud", type=int, default=None, help="baud rate (serial default 9600)")
    parser.add_argument("--parity", choices=["N", "E", "O"], default="N")
    parser.add_argument("--stopbits", type=int, choices=[1, 2], default=1)


def _line(args: argparse.Namespace) -> object:
    return line_for(
        tcp=args.tcp,
        rtu_over_tcp=args.rtu_over_tcp,
        serial=args.serial,
        baudrate=args.baud,
        parity=args.parity,
        stopbits=args.stopbits,
    )


def _print_problems(exc: FileProblems, heading: str) -> int:
    """Every problem of a file on its own line; exit status 1."""
    print(f"{exc.source}: {heading}:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def _report_broken(error: ProfileError, *, model_unknown: bool = False) -> int:
    """A profile file that cannot be used, every problem on its own line; exit status 1."""
    if isinstance(error, ProfileIncomplete):
        heading = (
            f"a template: {len(error.missing)} fields must be filled in from the "
            "device manual before it can be used"
        )
    else:
        heading = f"{len(error.problems)} problem(s)"
    _print_problems(error, heading)
    if model_unknown:
        print(f"  {unreadable_model_note()}", file=sys.stderr)
    return 1


def _report_ok(origin: str, profile: Profile) -> None:
    flags = "verified" if profile.verified else "UNVERIFIED: read-only, never writes"
    print(
        f"{origin}: OK: {profile.manufacturer} {profile.model} ({flags}), "
        f"{len(profile.channels)} channels, {len(profile.setpoints)} setpoints, "
        f"commands: {', '.join(sorted(profile.commands)) or 'none'}"
    )


def _check_entries(entries: Sequence[CatalogueEntry]) -> int:
    """Check every file of a profile folder: a broken one is shown, never skipped."""
    status = 0
    for entry in entries:
        if entry.profile is not None:
            _report_ok(entry.origin, entry.profile)
        else:
            assert entry.error is not None
            status = _report_broken(entry.error, model_unknown=entry.model_unknown)
    return status


def _profile_check(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        path = Path(name)
        if path.is_dir():
            entries = user_entries(path)
            if not entries:
                print(f"{path}: no profile files (*.yaml, *.yml) in this folder", file=sys.stderr)
            status = max(status, _check_entries(entries))
            continue
        try:
            _report_ok(name, load_profile_file(path))
        except ProfileError as exc:
            status = _report_broken(exc)
    return status


def _list_status(entry: CatalogueEntry) -> str:
    if entry.profile is not None:
        return "verified" if entry.profile.verified else "unverified"
    if isinstance(entry.error, ProfileIncomplete):
        return f"template: {len(entry.error.missing)} fields to fill"
    if entry.model_unknown:
        return "INVALID: blocks every model"
    return "INVALID"


def _profile_list(args: argparse.Namespace) -> int:
    user = Path(args.user_dir) if args.user_dir else None
    broken = 0
    for entry in catalogue(user):
        print(f"{entry.model:<24} {entry.group:<10} {_list_status(entry):<32} {entry.origin}")
        if entry.group != "user" or entry.error is None:
            continue  # a built-in template is listed, not a problem of this folder
        # A user's file that cannot be used says why, here: the bridge refuses to start
        # a device of its model rather than fall back to the built-in map.
        broken += 1
        for problem in entry.error.problems:
            print(f"    {problem}")
        if entry.model_unknown:
            print(f"    {unreadable_model_note()}")
    if broken:
        print(
            f"{broken} user profile file(s) cannot be used: the bridge refuses to start a"
            " device of the model they are for (of any model, where that cannot be read)"
            " until they are fixed or removed",
            file=sys.stderr,
        )
        return 1
    return 0


async def _read(args: argparse.Namespace) -> int:
    user = Path(args.user_dir) if args.user_dir else None
    profile = find_profile(args.profile, user)
    line = _line(args)
    device = DeviceSpec(id=f"unit-{args.unit}", unit=args.unit, profile=profile)
    bus = Bus(BusSettings(id="cli", line=line), [device])  # type: ignore[arg-type]
    try:
        await bus.poll_once(device.id)
    finally:
        bus.transport.close()
    snapshot = bus.snapshot(device.id)
    print(json.dumps(snapshot, indent=2, ensure_ascii=False, default=str))
    if not snapshot["online"]:
        print(f"unit {args.unit} did not answer", file=sys.stderr)
        return 1
    return 0


def _parse_units(text: str) -> list[int]:
    units: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        units.extend(range(int(first), int(last or first) + 1))
    if not units or min(units) < 1 or max(units) > 247:
        raise argparse.ArgumentTypeError("units are 1..247, e.g. 1-32 or 1,5,9")
    return units


async def _scan(args: argparse.Namespace) -> int:
    line = _line(args)
    transport = ModbusTransport(line)  # type: ignore[arg-type]
    profiles = [e.profile for e in catalogue() if e.profile is not None]
    await transport.open()
    try:
        hits = await scan(transport, args.units, profiles, baudrate=getattr(line, "baudrate", None))
    finally:
        transport.close()
    for hit in hits:
        print(json.dumps(hit.as_dict()))
    if not hits:
        print("no unit answered", file=sys.stderr)
        return 1
    return 0


async def _run(args: argparse.Namespace) -> int:
    from . import demo
    from .config.bridge_config import load_config
    from .service import Bridge, run_until_stopped

    if args.demo:
        if not args.data_dir:
            raise ValueError("run --demo needs --data-dir DIR")
        return await demo.run_demo(
            Path(args.data_dir), api_host=args.api_host, api_port=args.api_port or 8765
        )
    if not args.config:
        raise ValueError("give --config FILE, or --demo --data-dir DIR")
    config = load_config(Path(args.config))
    overrides: dict[str, object] = {}
    if args.api_port is not None:
        overrides["api_port"] = args.api_port
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if overrides:
        config = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]

    def ready(bridge: Bridge) -> None:
        print(
            f"bridge {bridge.bridge_id} serving http://{config.api_host}:{bridge.api_port}/api/v1/"
            f" ({len(bridge.device_bus)} devices on {len(bridge.buses)} buses)",
            flush=True,
        )

    return await run_until_stopped(Bridge(config), ready)


def _token(args: argparse.Namespace) -> int:
    from .api.auth import load_or_create_token

    print(load_or_create_token(Path(args.data_dir)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m electrical_safety_bridge",
        description="Electrical-safety bridge: Modbus detectors to Home Assistant.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="logging threshold"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="check and list device profiles")
    profile_commands = profile.add_subparsers(dest="profile_command", required=True)
    check = profile_commands.add_parser(
        "check", help="validate profile files, or every profile file of a folder"
    )
    check.add_argument("files", nargs="+", metavar="FILE_OR_FOLDER")
    listing = profile_commands.add_parser("list", help="list built-in and user profiles")
    listing.add_argument("--user-dir", help="folder of user profiles (override built-ins)")

    read = commands.add_parser("read", help="read one unit once and print JSON")
    _add_line_arguments(read)
    read.add_argument("--unit", type=int, required=True)
    read.add_argument("--profile", required=True, help="model name or a profile file")
    read.add_argument("--user-dir", help="folder of user profiles")

    scan_parser = commands.add_parser("scan", help="find the units that answer on a line")
    _add_line_arguments(scan_parser)
    scan_parser.add_argument("--units", type=_parse_units, default=_parse_units("1-247"))

    run = commands.add_parser("run", help="run the bridge service")
    run.add_argument("--config", help="the bridge configuration (YAML)")
    run.add_argument("--demo", action="store_true", help="run on a simulated demo bus")
    run.add_argument("--data-dir", help="token, bridge id and event store (demo: required)")
    run.add_argument("--api-host", default="127.0.0.1")
    run.add_argument("--api-port", type=int, default=None)

    token = commands.add_parser("token", help="print the API token, creating it if needed")
    token.add_argument("--data-dir", required=True)

    from .simulator import command as simulate_command

    simulate = commands.add_parser("simulate", help="serve simulated detectors")
    simulate_command.add_arguments(simulate)

    from . import demo

    demo_parser = commands.add_parser("demo", help="the bridge on a simulated bus, printed live")
    demo.add_arguments(demo_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command."""
    args = build_parser().parse_args(argv)
    # The service logs its progress; the demo prints its own lines instead.
    quiet = logging.INFO if args.command == "run" and not args.demo else logging.WARNING
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose
        else (getattr(logging, args.log_level.upper()) if args.log_level else quiet),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # pymodbus logs every timeout as an error; the bus engine reports a silent unit
        # once, in the user's terms, so the library's own lines would only be noise.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        match args.command:
            case "profile":
                return (
                    _profile_check(args) if args.profile_command == "check" else _profile_list(args)
                )
            case "read":
                return asyncio.run(_read(args))
            case "run":
                return asyncio.run(_run(args))
            case "token":
                return _token(args)
            case "scan":
                return asyncio.run(_scan(args))
            case "simulate":
                from .simulator import command as simulate_command

                return asyncio.run(simulate_command.run(args))
            case "demo":
                from . import demo

                return asyncio.run(demo.run(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileProblems as exc:
        return _print_problems(exc, f"{len(exc.problems)} problem(s)")
    except BridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2

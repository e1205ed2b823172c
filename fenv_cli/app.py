"""The `fenv` command line: parse, run one command, print its result, exit with its code."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from fenv_cli import commands
from fenv_cli.account import Account, aws_environment
from fenv_cli.errors import BAD_INPUT, EXIT_CODES, INTERNAL, INTERRUPTED, CliError, translate

DESCRIPTION = """\
Create, inspect and tear down fargate-env environments (a load balancer in front of an ECS
Fargate service) through the application's state machines.

fenv finds the state machines and the registry from the CloudFormation stack's outputs (--stack)
and uses the usual AWS credentials and region. Against the emulator (`make emulator`), pass
--endpoint-url or set AWS_ENDPOINT_URL; any credentials do."""


def _exit_codes() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (and exit code 2, bad input)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(BAD_INPUT)


def _common(defaults: bool) -> Parser:
    """The shared options, accepted before or after the command (defaults set once, on fenv)."""
    common = Parser(add_help=False)

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    common.add_argument(
        "--stack",
        default=default(os.environ.get("FENV_STACK", "fargate-env")),
        help="the deployed stack (default: $FENV_STACK or fargate-env)",
    )
    common.add_argument(
        "--endpoint-url",
        default=default(None),
        help="an AWS endpoint, e.g. the emulator's http://127.0.0.1:4566 (or $AWS_ENDPOINT_URL)",
    )
    common.add_argument("--region", default=default(None), help="AWS region (or $AWS_REGION)")
    common.add_argument("--profile", default=default(None), help="AWS profile (or $AWS_PROFILE)")
    common.add_argument(
        "--output",
        choices=["text", "json"],
        default=default("text"),
        help="text for people (default) or json for scripts",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show the traceback of an error",
    )
    return common


def _waiting(sub: argparse.ArgumentParser, what: str) -> None:
    sub.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help=f"start the execution, print it and return (do not follow {what})",
    )
    sub.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop following after this long (exit 6; the execution goes on)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common(defaults=False)
    parser = Parser(
        prog="fenv",
        description=DESCRIPTION,
        epilog=_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common(defaults=True)],
    )
    from fenv_cli import __version__

    parser.add_argument("--version", action="version", version=f"fenv {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    up = command(
        "up",
        "create the environment a spec describes; follows it, prints the URL, and exits 0 only "
        "when the URL answers",
    )
    up.add_argument("spec", metavar="SPEC", help='a spec file: {"spec": {...}} or the spec itself')
    up.add_argument("--name", default=None, help="the execution's name (default: <env>-<time>)")
    up.add_argument(
        "--environment",
        default=None,
        metavar="ENV",
        help="the environment's name instead of the spec's `name` (one spec file for many "
        "environments, e.g. pr-42)",
    )
    up.add_argument(
        "--image",
        default=None,
        help="the main container's image instead of the spec's `container.image` (e.g. the "
        "image CI built for the commit)",
    )
    _waiting(up, "its progress")

    down = command("down", "tear an environment down (every resource it has)")
    down.add_argument("name", metavar="NAME", help="the environment's name")
    down.add_argument(
        "--force",
        action="store_true",
        help="tear down even when the registry does not know the name (leftovers by name)",
    )
    _waiting(down, "its progress")

    status = command(
        "status",
        "an environment's state, URL, image and revision, age, time to live left, last "
        "execution and cost so far",
    )
    status.add_argument("name", metavar="NAME", help="the environment's name")

    listing = command("list", "every environment in the registry, as a table")
    listing.add_argument("--all", action="store_true", help="include DELETED environments")

    history = command("history", "an environment's executions, with durations and outcomes")
    history.add_argument("name", metavar="NAME", help="the environment's name")
    history.add_argument(
        "--limit", type=int, default=20, help="at most this many, newest first (default 20)"
    )

    logs = command("logs", "the environment's container logs (CloudWatch Logs)")
    logs.add_argument("name", metavar="NAME", help="the environment's name")
    logs.add_argument(
        "--follow", action="store_true", help="keep printing new events (Ctrl-C stops)"
    )
    logs.add_argument(
        "--since",
        default=None,
        metavar="DURATION",
        help="only events newer than this (e.g. 10m, 2h)",
    )
    logs.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --follow: stop after this long",
    )

    extend = command("extend", "move an environment's expiry later (its time to live)")
    extend.add_argument("name", metavar="NAME", help="the environment's name")
    extend.add_argument(
        "duration", metavar="DURATION", help="how much longer: 90m, 2h, 1d, 1h30m (minutes alone)"
    )

    validate = command(
        "validate", "check a spec locally (no AWS call) and estimate what it costs per hour"
    )
    validate.add_argument("spec", metavar="SPEC", help="a spec file")

    reaper = command(
        "reconcile",
        "the reaper: tear down what was forgotten (stale claims, expired environments without "
        "their schedule, tagged leftovers with no environment) and print what it found",
    )
    reaper.add_argument(
        "--dry-run", action="store_true", help="only report what it finds: start nothing"
    )
    _waiting(reaper, "its report")

    wait = command("wait", "wait until an environment's running execution ends")
    wait.add_argument("name", metavar="NAME", help="the environment's name")
    wait.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up after this long (exit 6)",
    )
    return parser


def _run(args: argparse.Namespace) -> commands.Result:
    options = commands.Options(output=args.output, timeout=getattr(args, "timeout", None))
    if args.command == "validate":
        return commands.validate(args.spec)
    account = Account(args.stack)
    if account.endpoint_url:
        options.poll_seconds = 0.2  # the emulator runs fast: look often
    runners: dict[str, Callable[[], commands.Result]] = {
        "up": lambda: commands.up(
            account,
            args.spec,
            options,
            args.wait,
            args.name,
            commands.Overrides(environment=args.environment, image=args.image),
        ),
        "down": lambda: commands.down(account, args.name, options, args.wait, args.force),
        "status": lambda: commands.status(account, args.name),
        "list": lambda: commands.list_environments(account, args.all),
        "history": lambda: commands.history(account, args.name, args.limit),
        "logs": lambda: commands.logs(
            account,
            args.name,
            options,
            args.follow,
            commands.parse_duration(args.since) if args.since else 0,
        ),
        "extend": lambda: commands.extend(account, args.name, args.duration),
        "wait": lambda: commands.wait_for(account, args.name, options),
        "reconcile": lambda: commands.reconcile(account, options, args.wait, args.dry_run),
    }
    return runners[args.command]()


def _fail(error: CliError, args: argparse.Namespace) -> int:
    print(f"fenv: {error.message}", file=sys.stderr)
    if args.output == "json":
        print(json.dumps({"error": error.message, "exit_code": error.code}))
    return error.code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with aws_environment(args.endpoint_url, args.region, args.profile):
            result = _run(args)
    except CliError as error:
        if args.debug:
            traceback.print_exc()
        return _fail(error, args)
    except KeyboardInterrupt:
        print("fenv: interrupted (a started execution goes on)", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        known = translate(exc, args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
        if known is not None:
            return _fail(known, args)
        message = f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        return _fail(CliError(INTERNAL, message), args)
    try:
        if args.output == "json":
            if result.data is not None:
                print(json.dumps(result.data, indent=2, default=str))
        else:
            for line in result.lines:
                print(line)
        sys.stdout.flush()
    except BrokenPipeError:  # `fenv list | head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more may reach the pipe
    return result.code

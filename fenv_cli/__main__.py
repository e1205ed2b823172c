"""python -m fenv_cli {validate,provision,teardown,status,list} ..."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from fenv_cli.progress import follow


def _client(args: argparse.Namespace, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=args.endpoint_url, region_name=args.region)


def _outputs(args: argparse.Namespace) -> dict[str, str]:
    stacks = _client(args, "cloudformation").describe_stacks(StackName=args.stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def _read_input(path: str) -> dict[str, Any]:
    data = json.loads(Path(path).read_text())
    return data if "spec" in data else {"spec": data}


def _normalised(path: str) -> dict[str, Any] | None:
    """The spec in `path`, validated locally (None, with the problems printed, when invalid)."""
    from fargate_env import spec as spec_model
    from fargate_env.errors import InvalidSpec

    try:
        return spec_model.normalise(spec_model.parse(_read_input(path)["spec"]))
    except InvalidSpec as exc:
        print(exc, file=sys.stderr)
        return None


def validate(args: argparse.Namespace) -> int:
    normalised = _normalised(args.file)
    if normalised is None:
        return 1
    print(json.dumps(normalised, indent=2))
    return 0


def _start(
    args: argparse.Namespace, machine_output: str, payload: dict[str, Any], name: str
) -> int:
    sfn = _client(args, "stepfunctions")
    arn = _outputs(args)[machine_output]
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    print(f"started {execution['executionArn']}")
    if not args.wait:
        return 0
    described = follow(sfn, execution["executionArn"], print)
    print(f"{described['status']}")
    if described["status"] == "SUCCEEDED":
        print(json.dumps(json.loads(described.get("output") or "{}"), indent=2))
        return 0
    print(f"error: {described.get('error')}\ncause: {described.get('cause')}", file=sys.stderr)
    return 1


def provision(args: argparse.Namespace) -> int:
    if _normalised(args.file) is None:
        return 1  # nothing started: the spec is invalid
    payload = _read_input(args.file)
    name = args.execution_name or f"{payload['spec']['name']}-{int(time.time())}"
    return _start(args, "ProvisionStateMachineArn", payload, name)


def teardown(args: argparse.Namespace) -> int:
    name = args.execution_name or f"{args.name}-teardown-{int(time.time())}"
    return _start(args, "TeardownStateMachineArn", {"name": args.name}, name)


def _items(args: argparse.Namespace) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    table = _outputs(args)["RegistryTableName"]
    deserializer = TypeDeserializer()
    items = []
    for page in _client(args, "dynamodb").get_paginator("scan").paginate(TableName=table):
        items.extend(
            {k: deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]
        )
    return items


def status(args: argparse.Namespace) -> int:
    found = [item for item in _items(args) if item["name"] == args.name]
    if not found:
        print(f"no environment named {args.name}", file=sys.stderr)
        return 1
    item = found[0]
    for key in ("name", "status", "url", "expires_at", "updated_at", "provision_execution"):
        if item.get(key):
            print(f"{key:<20} {item[key]}")
    if item.get("failure"):
        print(f"{'failure':<20} {item['failure']}")
    return 0


def list_environments(args: argparse.Namespace) -> int:
    for item in sorted(_items(args), key=lambda i: i["name"]):
        print(f"{item['name']:<22} {item['status']:<9} {item.get('url') or ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fenv", description=__doc__)
    parser.add_argument("--stack", default="fargate-env")
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--region", default=None)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a spec locally, print it normalised")
    check.add_argument("file")
    check.set_defaults(run=validate)
    for command, target, runner in (
        ("provision", "file", provision),
        ("teardown", "name", teardown),
    ):
        sub = commands.add_parser(command)
        sub.add_argument(target)
        sub.add_argument("--wait", action="store_true", help="follow the execution to its end")
        sub.add_argument("--execution-name", default=None)
        sub.set_defaults(run=runner)
    show = commands.add_parser("status", help="an environment's registry record")
    show.add_argument("name")
    show.set_defaults(run=status)
    commands.add_parser("list", help="every environment in the registry").set_defaults(
        run=list_environments
    )
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

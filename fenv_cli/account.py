"""Where fenv's AWS is: a real account (the stack's outputs found by its name) or the emulator
(--endpoint-url). Both are reached the same way: the options become the standard AWS
environment variables for the command's duration, so fenv's own clients and the layer's
(registry, schedules) use the same endpoint, region and credentials."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from fenv_cli.errors import AWS_UNAVAILABLE, NOT_FOUND, CliError

if TYPE_CHECKING:
    from fargate_env.aws import Service
    from fargate_env.payloads import RegistryItem

#: The emulator answers this path with its simulated time and the local URLs of the load
#: balancers' listeners (embedded_aws/server.py); a real endpoint has no such path.
EMULATOR_INFO_PATH = "/_fargate-env/info"


@contextlib.contextmanager
def aws_environment(
    endpoint_url: str | None, region: str | None, profile: str | None
) -> Iterator[None]:
    """The options as AWS_* variables while the command runs (restored after it)."""
    from fargate_env import aws as layer_aws
    from fargate_env import settings as layer_settings

    saved = dict(os.environ)
    if profile:
        os.environ["AWS_PROFILE"] = profile
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    layer_aws.reset_clients()
    try:
        with layer_settings.scope():  # the stack's outputs, once read (Account.outputs)
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        layer_aws.reset_clients()


class Account:
    """The deployed application: its stack's outputs, registry and executions."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.endpoint_url = os.environ.get("AWS_ENDPOINT_URL")
        self._clients: dict[Service, Any] = {}

    @cached_property
    def region(self) -> str:
        import boto3

        # boto3 reads AWS_DEFAULT_REGION and the profile; AWS_REGION is what Lambda and the
        # newer SDKs set: either names the region.
        region = boto3.session.Session().region_name or os.environ.get("AWS_REGION")
        if not region:
            raise CliError(
                AWS_UNAVAILABLE,
                "no AWS region: pass --region, set AWS_REGION, or set one in your AWS profile",
            )
        # Every client, fenv's and the layer's, in that region.
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
        return str(region)

    def client(self, service: Service) -> Any:
        found = self._clients.get(service)
        if found is None:
            from fargate_env import aws

            found = self._clients[service] = aws.session_client(service, self.region)
        return found

    @cached_property
    def outputs(self) -> dict[str, str]:
        from botocore.exceptions import ClientError

        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                raise CliError(
                    NOT_FOUND,
                    f"stack {self.stack!r} not found in {self.region}"
                    + (f" at {self.endpoint_url}" if self.endpoint_url else "")
                    + ": pass --stack NAME or --region",
                ) from exc
            raise
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        # The layer finds the registry table and (to tell this deployment's expiry schedules from
        # another stack's) the teardown machine from its settings, as on Lambda.
        from fargate_env import registry, schedules, settings

        for output, variable in (
            ("RegistryTableName", registry.TABLE_ENV),
            ("TeardownStateMachineArn", schedules.TEARDOWN_STATE_MACHINE_ENV),
        ):
            if output in outputs:
                settings.put(variable, outputs[output])
        return outputs

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if value is None:
            raise CliError(NOT_FOUND, f"stack {self.stack!r} has no {key} output")
        return value

    # ------------------------------------------------------------------ the registry
    def environment(self, name: str) -> RegistryItem | None:
        from fargate_env import registry

        self.output("RegistryTableName")
        return registry.get(name)

    def require(self, name: str) -> RegistryItem:
        item = self.environment(name)
        if item is None:
            raise CliError(NOT_FOUND, f"no environment named {name!r} (fenv list shows them)")
        return item

    def environments(self) -> list[RegistryItem]:
        from fargate_env import registry

        self.output("RegistryTableName")
        return sorted(registry.all_items(), key=lambda item: str(item["name"]))

    # ------------------------------------------------------------------ the emulator
    @cached_property
    def emulator(self) -> dict[str, Any]:
        """The emulator's info, or {} on a real endpoint."""
        if not self.endpoint_url:
            return {}
        try:
            with urllib.request.urlopen(
                self.endpoint_url.rstrip("/") + EMULATOR_INFO_PATH, timeout=5
            ) as response:
                return dict(json.loads(response.read()))
        except (OSError, ValueError):
            return {}

    def now(self) -> float:
        """AWS's time: the emulator's simulated clock, else this machine's."""
        from fargate_env import clock

        return float(self.emulator.get("now") or clock.now())

    def local_url(self, url: str) -> str | None:
        """Where `url` answers from this machine when the emulator serves it."""
        if not self.endpoint_url:
            return None
        self.__dict__.pop("emulator", None)  # listeners start as load balancers turn active
        urls: dict[str, str] = self.emulator.get("urls", {})
        return urls.get(url.rstrip("/"))

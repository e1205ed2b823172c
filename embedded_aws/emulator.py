"""EmbeddedAWS: the deployed application, offline. The one way to run fargate-env without an
AWS account - for the demo, the local endpoint, the benchmark and every flow test."""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import os
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedded_aws import ecs_rules, moto_fixes, moto_hooks, pass_role, plugs
from embedded_aws import template as template_module
from embedded_aws.clock import Clock, LogicalClock
from embedded_aws.container_logs import ContainerLogs
from embedded_aws.dataplane import DataPlane
from embedded_aws.faults import Faults
from embedded_aws.lambdas import LambdaRunner
from embedded_aws.latency import LatencyModel
from embedded_aws.patches import Patches
from embedded_aws.standin import OUTSIDE, Caller, StandIns
from embedded_aws.strict import Strict

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK = "fargate-env"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


Parameters = dict[str, str] | Callable[["EmbeddedAWS"], dict[str, str]]


class DeployError(RuntimeError):
    """The template could not be deployed: names the resource and the reason."""


@dataclass
class Execution:
    arn: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    started: float = 0.0  # simulated seconds
    stopped: float = 0.0

    @property
    def duration(self) -> float:
        return self.stopped - self.started

    def cause_json(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.cause or "{}")
        except ValueError:
            return {"raw": self.cause}
        return parsed if isinstance(parsed, dict) else {"raw": parsed}


@dataclass
class Counters:
    """What a run cost: state transitions, Lambda invocations, AWS API calls made by steps."""

    transitions: int = 0
    api_calls: Counter[str] = field(default_factory=Counter)
    #: step -> {"service:Action"} it called: what its IAM policy must allow.
    calls_by_step: dict[str, set[str]] = field(default_factory=dict)
    throttled: int = 0


def _error_response(service: str, code: str, message: str) -> tuple[int, dict[str, str], str]:
    """An AWS error answer, in the protocol of `service`."""
    if service == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            "</Errors><RequestID>refused</RequestID></Response>"
        )
        return 503 if code == "RequestLimitExceeded" else 400, {"Content-Type": "text/xml"}, body
    if service in ("elbv2", "elasticloadbalancing", "elb", "iam", "sqs"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error>"
            "<RequestId>refused</RequestId></ErrorResponse>"
        )
        return 400, {"Content-Type": "text/xml"}, body
    if service == "scheduler":
        status = 429 if code == "ThrottlingException" else 400
        return status, {"x-amzn-ErrorType": code}, json.dumps({"Message": message})
    body = json.dumps({"__type": code, "message": message})
    return 400, {"Content-Type": "application/x-amz-json-1.1"}, body


_THROTTLING_CODES = {"ec2": "RequestLimitExceeded", "elbv2": "Throttling", "iam": "Throttling"}
#: ECS's answer while its service-linked role, created on first use, propagates in a fresh
#: account. Observed: AWS documents the role, not the delay:
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
SERVICE_LINKED_ROLE_PENDING = (
    "Unable to assume the service linked role. Please verify that the ECS service linked role "
    "exists."
)


def _throttle_response(service: str) -> tuple[int, dict[str, str], str]:
    """A throttling error, in the protocol of `service`."""
    code = _THROTTLING_CODES.get(service, "ThrottlingException")
    message = "Request limit exceeded." if service == "ec2" else "Rate exceeded"
    return _error_response(service, code, message)


def _restore_environ(saved: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)


class EmbeddedAWS:
    def __init__(
        self,
        *,
        model: LatencyModel | None = None,
        faults: Faults | None = None,
        clock: Clock | None = None,
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK,
        template_path: Path = template_module.TEMPLATE_PATH,
        quiet: bool = True,
        parameters: Parameters | None = None,
    ) -> None:
        self.model = model or LatencyModel.load()
        self.faults = faults or Faults()
        self.clock = clock or LogicalClock()
        self.region = region
        self.stack_name = stack_name
        self.template_path = template_path
        self.quiet = quiet
        #: Template parameters of the deploy: a dict, or made from the account once it exists
        #: (e.g. the default VPC's id for ProbeVpcId).
        self.parameters = parameters
        self.counters = Counters()
        self.strict = Strict()
        self.outputs: dict[str, str] = {}
        self.physical: dict[str, str] = {}  # logical id -> physical id
        self._undo = ExitStack()
        self._patches = Patches()
        self._clients: dict[str, Any] = {}
        #: The session of those clients: made after moto's mock starts (it resolves the
        #: emulator's credentials), on the process's service models.
        self._session: Any = None
        self._clients_lock = threading.Lock()
        sam = template_module.load_sam_template(template_path)
        self.sam_template = sam
        self.catalog = template_module.functions(sam, template_path.parent)
        self.plane = DataPlane(self.clock, self.model, self.faults, ACCOUNT_ID, region)
        self.container_logs = ContainerLogs(self.plane)
        self.plane.container_logs = self.container_logs
        self.standins = StandIns(self.plane, self.container_logs)
        self.standins.caller = self._caller
        self.runner = LambdaRunner(
            self.catalog,
            template_module.layer_dirs(sam, template_path.parent),
            self.clock,
            self.model,
            self.faults,
        )

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> EmbeddedAWS:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL" if self.quiet else "INFO",
            "POWERTOOLS_TRACE_DISABLED": "true",
            # moto's EC2 makes ~1,300 sample AMIs for every new account and region (0.3 s each
            # time); a Fargate environment runs no instance and never reads one.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }

    def start(self) -> None:
        """Deploy into a fresh moto account. Everything start changes outside this object (the
        process environment, moto's mock, every patched attribute, the stand-in servers) is
        undone by stop - or at once, when start itself fails."""
        from moto import mock_aws

        from fargate_env import aws as fargate_aws
        from fargate_env import clock as library_clock

        with ExitStack() as undo:
            if self.quiet:
                # moto logs every caught state failure and every resource type it skips; the
                # execution history and the deploy result say what matters.
                moto_log = logging.getLogger("moto")
                undo.callback(moto_log.setLevel, moto_log.level)
                moto_log.setLevel(logging.CRITICAL)
            undo.callback(_restore_environ, dict(os.environ))
            os.environ.update(self._environment())
            undo.callback(fargate_aws.reset_clients)
            # Every patch goes through one table, undone (last first) after moto's mock stops.
            undo.callback(self._patches.undo)
            patch = self._patches.set
            self.clock.install(patch)
            mock = mock_aws(
                config={
                    "stepfunctions": {"execute_state_machine": True},
                    "lambda": {"use_docker": False},
                }
            )
            mock.start()
            undo.callback(mock.stop)
            undo.callback(self._forget_clients)
            fargate_aws.reset_clients()
            # The library's time and the SDK's retry pauses follow the simulated clock.
            patch(library_clock, "now", self.clock.wall)
            patch(library_clock, "monotonic", self.clock.now)
            patch(library_clock, "sleep", self.clock.sleep)
            import botocore.endpoint

            patch(botocore.endpoint, "time", plugs._sleeping_module(self.clock.sleep))
            # Before the plugs and the data plane, which wrap some of the same moto methods.
            self.strict.install(self._patches)
            plugs.install(
                patch, self.clock, self.runner.invoke, self._state_entered, self.faults.seed
            )
            moto_hooks.install(self.plane, patch, self._api_call)
            ecs_rules.install(patch)
            moto_fixes.install(patch)
            undo.callback(self.standins.close)
            self.standins.install(patch)
            self.container_logs.install(patch)
            self.deploy()
            self._undo = undo.pop_all()

    def stop(self) -> None:
        self._undo.close()

    def reconfigure(self, model: LatencyModel | None = None, faults: Faults | None = None) -> None:
        """Swap the latency model and the faults of a running emulator (between executions)."""
        if model is not None:
            self.model = self.plane.model = self.runner.model = model
        if faults is not None:
            self.faults = self.plane.faults = self.runner.faults = faults
            plugs.reseed(faults.seed)
            self.strict.rates.reset()  # a new scenario starts with full token buckets

    # ------------------------------------------------------------------ hooks
    def _caller(self) -> Caller:
        """Who the calling thread is, for the load balancers' security groups: a function
        attached to a VPC (the endpoint probe) comes from an address of its first subnet with
        its groups; anything else from outside any VPC."""
        function = self.runner.running_function()
        config = getattr(function, "_vpc_config", None) or {}
        subnets = config.get("SubnetIds") or []
        if not subnets:
            return OUTSIDE
        subnet = self.plane._ec2().get_subnet(subnets[0])
        address = str(ipaddress.ip_network(subnet.cidr_block)[-6])
        return Caller(address, subnet.vpc_id, tuple(config.get("SecurityGroupIds") or ()))

    def _state_entered(self) -> None:
        self.counters.transitions += 1
        self.clock.advance(self.model.state_transition)

    def _api_call(self, response: Any, action: str) -> Any:
        step = self.runner.in_handler()
        if step is None:
            return None  # the caller (a test, the CLI, the interpreter) pays nothing
        service = str(getattr(response, "service_name", "") or "")
        self.counters.api_calls[f"{service}:{action}"] += 1
        self.counters.calls_by_step.setdefault(step, set()).add(f"{service}:{action}")
        self.clock.advance(self.model.api_call)
        region = str(getattr(response, "region", "") or self.region)
        limited = self.strict.rates.take(region, service, action, self.clock.now())
        if limited is not None or self.faults.throttle():
            self.counters.throttled += 1
            return _throttle_response(service)
        if (
            (service, action) == ("ecs", "CreateCluster")
            and response._get_param("capacityProviders")
            and self.faults.refuse_cluster_creation()
        ):
            refusal = SERVICE_LINKED_ROLE_PENDING
            return _error_response(service, "InvalidParameterException", refusal)
        function = self.runner.running_function()
        if service == "ecs" and function is not None:
            roles = pass_role.passed_roles(response, action, self.plane._ecs())
            if roles:
                iam = self.plane.inspect_account().iam
                return pass_role.refusal(str(function.role), roles, iam)
        return None

    # ------------------------------------------------------------------ deploy
    def client(self, service: str) -> Any:
        """A boto3 client of the embedded AWS (cached: clients are thread-safe, their session
        is not while it makes one)."""
        from fargate_env import aws as fargate_aws

        with self._clients_lock:
            found = self._clients.get(service)
            if found is None:
                if self._session is None:
                    self._session = fargate_aws.new_session()
                found = self._session.client(service, region_name=self.region)
                self._clients[service] = found
        return found

    def _forget_clients(self) -> None:
        with self._clients_lock:
            self._clients.clear()
            self._session = None

    def translated_template(self) -> dict[str, Any]:
        translated = template_module.translate(
            self.sam_template, self.region, self.template_path.parent
        )
        definitions = template_module.state_machine_definitions(
            self.sam_template, self.template_path.parent
        )
        return template_module.for_moto(translated, definitions)

    def _upload_code(self, template: dict[str, Any]) -> None:
        """CloudFormation wants each function's code in S3: an empty zip stands for it (the
        emulator runs the code from the working tree)."""
        s3 = self.client("s3")
        s3.create_bucket(Bucket=template_module.CODE_BUCKET)
        empty = io.BytesIO()
        with zipfile.ZipFile(empty, "w") as archive:
            archive.writestr("README", "code runs from the working tree in the embedded AWS\n")
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion"):
                s3.put_object(
                    Bucket=template_module.CODE_BUCKET,
                    Key=f"{logical_id}.zip",
                    Body=empty.getvalue(),
                )

    def deploy(self) -> None:
        import moto.cloudformation.parsing as cfn_parsing
        import moto.stepfunctions.models as sfn_models
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        template = self.translated_template()
        self._upload_code(template)
        cloudformation = self.client("cloudformation")
        parameters = self.parameters(self) if callable(self.parameters) else self.parameters
        during = Patches()  # undone when the stack is made
        # State machines a stack creates must land where moto executes them.
        # moto's parser backends stand in for its classic ones (moto types them apart).
        during.set(sfn_models, "stepfunctions_backends", stepfunctions_parser_backends)
        during.set(
            cfn_parsing, "clean_json", template_module.dropping_no_value(cfn_parsing.clean_json)
        )
        template_module.stable_resource_names(during.set)
        try:
            cloudformation.create_stack(
                StackName=self.stack_name,
                TemplateBody=json.dumps(template),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                Parameters=[
                    {"ParameterKey": key, "ParameterValue": value}
                    for key, value in (parameters or {}).items()
                ],
            )
        except Exception as exc:
            raise DeployError(f"CloudFormation rejected the template: {exc}") from exc
        finally:
            during.undo()
        stack = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            failures = [
                f"{event['LogicalResourceId']} ({event['ResourceType']}): "
                f"{event.get('ResourceStatusReason', 'no reason given')}"
                for event in cloudformation.describe_stack_events(StackName=self.stack_name)[
                    "StackEvents"
                ]
                if event["ResourceStatus"].endswith("FAILED")
            ]
            raise DeployError(
                f"stack {self.stack_name} is {stack['StackStatus']}: " + "; ".join(failures)
            )
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=self.stack_name):
            for resource in page["StackResourceSummaries"]:
                self.physical[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
        # A function under a template condition exists only when the condition holds.
        missing = [
            lid
            for lid, info in self.catalog.items()
            if lid not in self.physical and info.condition is None
        ]
        if missing:
            raise DeployError(f"functions missing after deploy: {', '.join(missing)}")
        for logical_id in self.catalog:
            if logical_id in self.physical:
                physical = self.physical[logical_id]
                self.runner.physical_names[physical.split(":")[-1]] = logical_id

    def function_environment(self) -> dict[str, str]:
        """Every deployed function's environment variables, merged (for direct library calls)."""
        merged: dict[str, str] = {}
        for physical in self.runner.physical_names:
            configuration = self.client("lambda").get_function_configuration(FunctionName=physical)
            merged.update(configuration.get("Environment", {}).get("Variables", {}))
        return merged

    # ------------------------------------------------------------------ executions
    @property
    def provision_arn(self) -> str:
        return self.outputs["ProvisionStateMachineArn"]

    @property
    def teardown_arn(self) -> str:
        return self.outputs["TeardownStateMachineArn"]

    @property
    def update_arn(self) -> str:
        return self.outputs["UpdateStateMachineArn"]

    @property
    def gateways_arn(self) -> str:
        return self.outputs["GatewaysStateMachineArn"]

    def maintain_gateways(self, name: str | None = None) -> Execution:
        """One run of the gateways machine, as its schedule starts it."""
        return self.wait(self.start_execution(self.gateways_arn, {}, name or _unique()))

    def start_execution(self, state_machine_arn: str, payload: dict[str, Any], name: str) -> str:
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
        )
        return str(response["executionArn"])

    def wait(self, execution_arn: str, timeout: float = 300.0) -> Execution:
        """Block (wall time) until the execution ends."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        succeeded_without_output = 0
        # Each look is a whole DescribeExecution through moto: looks from 5 ms apart growing to
        # 50 ms keep this thread from taking the CPU the execution's own threads need (at a
        # steady 5 ms it took a fifth of a flow test's CPU); the end is seen within 50 ms.
        pause = 0.005
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            # moto marks an execution SUCCEEDED a moment before it stores the output
            # (stepfunctions/parser/backend/execution.py): look again (a null output stays absent).
            if described["status"] == "SUCCEEDED" and "output" not in described:
                succeeded_without_output += 1
                if succeeded_without_output < 20:
                    time.sleep(0.005)
                    continue
            if described["status"] in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {described['status']} after {timeout} s")
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)
        self.clock.now()  # the caller waited for the execution: continue from its end
        output = described.get("output")
        return Execution(
            arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            started=described["startDate"].timestamp() - self.clock.epoch,
            stopped=described["stopDate"].timestamp() - self.clock.epoch
            if described.get("stopDate")
            else 0.0,
        )

    def provision(self, spec: dict[str, Any], name: str | None = None) -> Execution:
        execution = name or f"provision-{spec['name']}-{_unique()}"
        return self.wait(self.start_execution(self.provision_arn, {"spec": spec}, execution))

    def update(self, spec: dict[str, Any], name: str | None = None) -> Execution:
        execution = name or f"update-{spec['name']}-{_unique()}"
        return self.wait(self.start_execution(self.update_arn, {"spec": spec}, execution))

    def teardown(
        self, env: str, resources: dict[str, Any] | None = None, name: str | None = None
    ) -> Execution:
        payload: dict[str, Any] = {"name": env}
        if resources is not None:
            payload["resources"] = resources
        execution = name or f"teardown-{env}-{_unique()}"
        return self.wait(self.start_execution(self.teardown_arn, payload, execution))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    # ------------------------------------------------------------------ what exists
    def remaining(self, env: str) -> list[str]:
        """Every resource of `env` that still exists, listed straight from the (emulated) APIs."""
        from fargate_env import naming

        tag_filter = {naming.ENVIRONMENT_TAG: env}
        left: list[str] = []
        ecs = self.client("ecs")
        for cluster in ecs.describe_clusters(clusters=[naming.cluster_name(env)], include=["TAGS"])[
            "clusters"
        ]:
            if cluster["status"] != "INACTIVE":
                left.append(f"ecs cluster {cluster['clusterName']}")
                for service in ecs.describe_services(
                    cluster=cluster["clusterArn"], services=[naming.service_name(env)]
                )["services"]:
                    if service["status"] != "INACTIVE":
                        left.append(f"ecs service {service['serviceName']} ({service['status']})")
        for status in ("ACTIVE", "INACTIVE"):
            for arn in ecs.list_task_definitions(
                familyPrefix=naming.task_family(env), status=status
            )["taskDefinitionArns"]:
                if arn.split("/")[-1].rsplit(":", 1)[0] == naming.task_family(env):
                    left.append(f"ecs task definition {arn.split('/')[-1]} ({status})")
        elbv2 = self.client("elbv2")
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
            if _has_tags(elbv2, lb["LoadBalancerArn"], tag_filter):
                left.append(f"load balancer {lb['LoadBalancerName']}")
        for tg in elbv2.describe_target_groups()["TargetGroups"]:
            if _has_tags(elbv2, tg["TargetGroupArn"], tag_filter):
                left.append(f"target group {tg['TargetGroupName']}")
        ec2 = self.client("ec2")
        for group in ec2.describe_security_groups(
            Filters=[{"Name": f"tag:{naming.ENVIRONMENT_TAG}", "Values": [env]}]
        )["SecurityGroups"]:
            left.append(f"security group {group['GroupName']} ({group['GroupId']})")
        logs = self.client("logs")
        for group in logs.describe_log_groups(logGroupNamePrefix=naming.log_group_name(env))[
            "logGroups"
        ]:
            if group["logGroupName"] == naming.log_group_name(env):
                left.append(f"log group {group['logGroupName']}")
        scheduler = self.client("scheduler")
        for schedule in scheduler.list_schedules(NamePrefix=naming.schedule_name(env))["Schedules"]:
            left.append(f"schedule {schedule['Name']}")
        from fargate_env import execution_role

        role = execution_role.role_name(env)
        if any(r["RoleName"] == role for r in self._roles()):
            left.append(f"iam role {role}")
        return left

    def _roles(self) -> list[dict[str, Any]]:
        paginator = self.client("iam").get_paginator("list_roles")
        return [role for page in paginator.paginate() for role in page["Roles"]]


def _has_tags(elbv2: Any, arn: str, wanted: dict[str, str]) -> bool:
    described = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    tags = {t["Key"]: t["Value"] for d in described for t in d.get("Tags", [])}
    return all(tags.get(key) == value for key, value in wanted.items())


_counter = iter(range(1, 1_000_000))
_counter_lock = threading.Lock()


def _unique() -> str:
    with _counter_lock:
        return f"{next(_counter):04d}"


__all__ = ["DeployError", "EmbeddedAWS", "Execution"]

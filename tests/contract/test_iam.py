"""Least privilege, checked on the template CloudFormation receives (template.yaml translated by
aws-sam-translator, so the roles SAM generates are checked too).

The rules:
- No action holds a wildcard ("*", "service:*", or any other pattern): every grant is spelled out,
  and every action exists (cfn-lint's copy of AWS's service authorization reference).
- Resource "*" only where AWS offers nothing narrower: a statement with Resource "*" may grant a
  read-only action (READ_ONLY_PREFIXES, minus the DATA_READS that return data or credentials)
  or an action that supports no resource-level permissions at all (its resource types are empty
  in the reference); and a statement of ours that does so says it in its Sid (ending in
  NOT_RESOURCE_SCOPED) and in a `# Resource "*": <why>` comment above it in template.yaml.
- iam:PassRole names the roles it passes (never "*") and the service they go to
  (iam:PassedToService).
- Each step's role allows every AWS call the step's handler makes and what AWS checks on the
  caller of those calls (caller_permissions.py: a table with AWS's source for each), and nothing
  else but the IMPLICIT permissions the Lambda service uses with the role (each with its
  reason). The calls are recorded from the real handlers running the flows on the embedded AWS
  (run_flows below).
- The state machines may invoke only their own functions, the provisioning machine may start
  only the teardown machine, each EventBridge rule's role may start only its machine, and only
  the task execution role reads secret values, only under the template's prefixes.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from embedded_aws import iam_policy, prerequisites
from embedded_aws import template as template_module
from embedded_aws.emulator import ACCOUNT_ID, EmbeddedAWS
from embedded_aws.faults import Faults, Hold, StepFault
from embedded_aws.latency import LatencyModel
from fargate_env import bounds, gateways, naming
from tests.contract.caller_permissions import (
    CHECKED_ON_CALLER,
    SERVICE_LINKED_ROLES,
    checked_on_caller,
)
from tests.flows.conftest import (
    deployment_settings,
    foreign_listener,
    probe_in_the_default_vpc,
)
from tests.support import REGION, sample_spec

NOT_RESOURCE_SCOPED = "NotResourceScoped"
#: Reads: metadata only, harmless on every resource of the account ...
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet")
#: ... except these, which return data or credentials: they count as writes here.
DATA_READS = {
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "s3:GetObject",
    "kms:Decrypt",
}
SECRET_READS = {"secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters"}

#: The AWS managed policies the translated template may attach, as AWS publishes them.
AWS_MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    # SAM attaches it to the roles of traced state machines.
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": ["*"],
        }
    ],
    # SAM attaches it to every function role it generates (template.yaml gives each function its
    # own role instead): known here so that, should it come back, the rules name what is wrong.
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}

#: Permissions a step needs although its handler never calls them: the Lambda service uses them
#: with the function's role (each with its reason). What AWS checks on the caller of a call the
#: step makes is in caller_permissions.CHECKED_ON_CALLER, with its source.
IMPLICIT: dict[str, str] = {
    "logs:CreateLogStream": "Lambda writes the function's own logs with its role",
    "logs:PutLogEvents": "Lambda writes the function's own logs with its role",
    "xray:PutTraceSegments": "Lambda active tracing uploads the function's segments",
    "xray:PutTelemetryRecords": "Lambda active tracing reports the X-Ray telemetry",
}
#: ... and, for a function attached to a VPC (VpcConfig), what Lambda needs of its role to attach
#: it (Lambda developer guide, "Giving Lambda functions access to resources in an Amazon VPC").
VPC_ATTACHMENT: dict[str, str] = dict.fromkeys(
    (
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ),
    "Lambda manages the network interfaces of a function attached to a VPC with its role",
)

#: Service names as moto reports them -> IAM service prefixes.
IAM_SERVICE = {
    "awslambda": "lambda",
    "elbv2": "elasticloadbalancing",
    "stepfunctions": "states",
    "efs": "elasticfilesystem",
    "resourcegroupstaggingapi": "tag",
}


# ---------------------------------------------------------------------------- the template
@functools.cache
def translated() -> dict[str, Any]:
    """template.yaml as CloudFormation receives it: translated once for the module."""
    return template_module.translate(template_module.load_sam_template(), REGION)


@functools.cache
def authorization_reference() -> dict[str, Any]:
    """AWS's service authorization reference as cfn-lint ships it: service -> action -> the
    resource types the action can be scoped to (none: it supports no resource-level scope)."""
    path = resources.files("cfnlint.data.AdditionalSpecs") / "Policies.json"
    return dict(json.loads(path.read_text()))


def resources_of(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in cfn["Resources"].items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    where: str  # role / policy it comes from, for messages
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    condition: Any
    ours: bool  # written in template.yaml (False: an AWS managed policy)
    not_action: bool = False

    def grants(self, action: str) -> bool:
        return self.effect == "Allow" and any(matches(pattern, action) for pattern in self.actions)


def matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, * and ? wildcards."""
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern.lower()
    )
    return re.fullmatch(regex, action.lower()) is not None


def _present(statement: dict[str, Any]) -> dict[str, Any] | None:
    """A statement under a template condition ({"Fn::If": [condition, statement, NoValue]}) is
    checked as if the condition held: the deployment may well set it."""
    if "Fn::If" in statement:
        _, chosen, otherwise = statement["Fn::If"]
        assert otherwise == {"Ref": "AWS::NoValue"}, statement
        return dict(chosen)
    return statement


def _statements(where: str, document: dict[str, Any] | list[Any], ours: bool) -> list[Statement]:
    listed = document if isinstance(document, list) else as_list(document["Statement"])
    raw = [found for statement in listed if (found := _present(statement))]
    return [
        Statement(
            where=where,
            sid=s.get("Sid"),
            effect=s["Effect"],
            actions=tuple(as_list(s.get("Action", s.get("NotAction", [])))),
            resources=tuple(as_list(s.get("Resource", s.get("NotResource", [])))),
            condition=s.get("Condition"),
            ours=ours,
            not_action="NotAction" in s or "NotResource" in s,
        )
        for s in raw
    ]


def role_statements(role_id: str) -> list[Statement]:
    """Every statement that applies to a role: its inline policies and its managed policies
    (the template's own, and the AWS managed ones as AWS publishes them)."""
    cfn = translated()
    props = cfn["Resources"][role_id]["Properties"]
    found = [
        statement
        for policy in props.get("Policies", [])
        for statement in _statements(
            f"{role_id}/{policy['PolicyName']}", policy["PolicyDocument"], ours=True
        )
    ]
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            managed = cfn["Resources"][arn["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", arn
            found += _statements(
                f"{role_id}/{arn['Ref']}", managed["Properties"]["PolicyDocument"], ours=True
            )
        else:
            assert arn in AWS_MANAGED_POLICIES, (
                f"{role_id} attaches {arn}: add its document to AWS_MANAGED_POLICIES to check it"
            )
            found += _statements(f"{role_id}/{arn}", AWS_MANAGED_POLICIES[arn], ours=False)
    # Policies that attach themselves to the role (those the template creates only under a
    # condition, such as the endpoint probe's invoke permission)
    for policy_id, policy in cfn["Resources"].items():
        if policy["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") and {
            "Ref": role_id
        } in policy["Properties"].get("Roles", []):
            found += _statements(
                f"{role_id}/{policy_id}", policy["Properties"]["PolicyDocument"], ours=True
            )
    return found


def policies() -> dict[str, list[Statement]]:
    """Every identity policy of the template: role -> statements, and standalone managed
    policies (also checked where no role uses them)."""
    cfn = translated()
    found = {role_id: role_statements(role_id) for role_id in resources_of(cfn, "AWS::IAM::Role")}
    for policy_id, policy in resources_of(cfn, "AWS::IAM::ManagedPolicy").items():
        found[policy_id] = _statements(policy_id, policy["Properties"]["PolicyDocument"], True)
    return found


POLICIES = policies()


def allowed_actions(statements: list[Statement]) -> set[str]:
    return {a for s in statements if s.effect == "Allow" for a in s.actions}


def reference_entry(action: str) -> dict[str, Any] | None:
    service, _, name = action.partition(":")
    entry = authorization_reference().get(service.lower(), {}).get("Actions", {}).get(name.lower())
    return None if entry is None else dict(entry)


def not_resource_scoped(action: str) -> bool:
    """The action supports no resource-level permissions: "*" is the only possible Resource."""
    entry = reference_entry(action)
    return entry is not None and not entry.get("Resources")


def read_only(action: str) -> bool:
    return action not in DATA_READS and action.partition(":")[2].startswith(READ_ONLY_PREFIXES)


# ---------------------------------------------------------------------------- 1. no wildcards
@pytest.mark.parametrize("owner", sorted(POLICIES))
def test_no_policy_grants_a_wildcard_or_unknown_action(owner):
    problems = []
    for statement in POLICIES[owner]:
        if statement.not_action:
            problems.append(f"{statement.where} {statement.sid}: NotAction/NotResource")
        for action in statement.actions:
            if "*" in action or "?" in action:
                problems.append(f"{statement.where} {statement.sid}: wildcard action {action}")
            elif reference_entry(action) is None:
                problems.append(f"{statement.where} {statement.sid}: no such action {action}")
    assert problems == []


# ---------------------------------------------------------------------------- 2. Resource "*"
def resource_star_problems(statements: list[Statement]) -> list[str]:
    problems = []
    for statement in statements:
        star = "*" in statement.resources
        documented = bool(statement.sid and statement.sid.endswith(NOT_RESOURCE_SCOPED))
        if documented and not star:
            problems.append(f"{statement.where} {statement.sid}: is scoped, yet its Sid says not")
        if not star or statement.effect != "Allow":
            continue
        for action in statement.actions:
            if read_only(action):
                continue
            if not not_resource_scoped(action):
                problems.append(
                    f"{statement.where} {statement.sid}: {action} on '*' "
                    "(AWS lets it be scoped to resources)"
                )
            elif statement.ours and not documented:
                problems.append(
                    f"{statement.where} {statement.sid}: {action} on '*' "
                    f"without a Sid ending in {NOT_RESOURCE_SCOPED}"
                )
    return problems


@pytest.mark.parametrize("owner", sorted(POLICIES))
def test_resource_star_only_where_aws_offers_no_narrower_scope(owner):
    assert resource_star_problems(POLICIES[owner]) == []


def test_every_not_resource_scoped_statement_says_why_in_template_yaml():
    lines = template_module.TEMPLATE_PATH.read_text().splitlines()
    sid = re.compile(rf"^\s*- Sid: (\w+{NOT_RESOURCE_SCOPED})\s*$")
    found = 0
    for index, line in enumerate(lines):
        match = sid.match(line)
        if not match:
            continue
        found += 1
        above = lines[index - 1].strip()
        where = f"template.yaml:{index + 1} {match.group(1)}"
        assert above.startswith('# Resource "*": '), f"{where}: no '# Resource \"*\": <why>' above"
        assert len(above.split()) >= 6, f"{where}: say why Resource is '*'"
    assert found >= 10


# ---------------------------------------------------------------------------- 3. iam:PassRole
#: The roles a step may pass that the template does not create, each under a path of its own:
#: the environments' execution roles (create_execution_role makes them, with the boundary) and
#: the applications' roles under AppTaskRolePath (whose pattern never allows the root, "/").
PASSED_ROLE_PATHS = {
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/fargate-env/${AWS::StackName}/"
    "fenv-*-exec-${AWS::Region}",
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role${AppTaskRolePath}*",
}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/fargate-env-apps/", True), ("/teams/payments/", True), ("/", False), ("", False)],
)
def test_the_app_task_role_path_is_never_the_root(path, allowed):
    pattern = translated()["Parameters"]["AppTaskRolePath"]["AllowedPattern"]
    assert (re.fullmatch(pattern, path) is not None) == allowed


def test_pass_role_names_its_roles_and_their_service():
    cfn = translated()
    roles = set(resources_of(cfn, "AWS::IAM::Role"))
    grants = [s for statements in POLICIES.values() for s in statements if s.grants("iam:PassRole")]
    assert len(grants) >= 2  # the task roles and the scheduler role
    for statement in grants:
        where = f"{statement.where} {statement.sid}"
        assert "*" not in statement.resources, where
        for resource in statement.resources:
            assert isinstance(resource, dict), where
            if "Fn::Sub" in resource:
                # roles made for the environments, or the applications' under their own path
                assert resource["Fn::Sub"] in PASSED_ROLE_PATHS, where
                continue
            assert "Fn::GetAtt" in resource, where
            assert resource["Fn::GetAtt"][0] in roles, where
        passed_to = (statement.condition or {}).get("StringEquals", {}).get("iam:PassedToService")
        assert passed_to, f"{where}: no iam:PassedToService condition"


# ---------------------------------------------------------------------------- 4. the steps
def step_functions() -> dict[str, str]:
    """Step (functions/<step>/) -> the logical id of its function."""
    sam = template_module.load_sam_template()
    found = {}
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            code_uri = str(resource["Properties"]["CodeUri"]).rstrip("/")
            assert code_uri.startswith("functions/"), code_uri
            found[code_uri.split("/", 1)[1]] = logical_id
    return found


STEPS = step_functions()


def step_role(step: str) -> str:
    function = translated()["Resources"][STEPS[step]]
    role = function["Properties"]["Role"]
    assert isinstance(role, dict), f"{STEPS[step]} has no role of the template"
    assert list(role) == ["Fn::GetAtt"], role
    assert role["Fn::GetAtt"][1] == "Arn", role
    return str(role["Fn::GetAtt"][0])


#: Calls whose IAM action is not named like the API operation.
IAM_ACTION = {"lambda:Invoke": "lambda:InvokeFunction"}


def iam_action(call: str) -> str:
    service, action = call.split(":", 1)
    named = f"{IAM_SERVICE.get(service, service)}:{action}"
    return IAM_ACTION.get(named, named)


FAST = LatencyModel.load().scaled(0.1)
#: The README's internal NLB: only the in-VPC probe can GET it.
INTERNAL_NLB = {"id": "tcp", "type": "network", "scheme": "internal"}


def _expect(execution: Any, status: str, flow: str) -> None:
    assert execution.status == status, f"{flow}: {execution.status} {execution.cause}"


def _provision_and_tear_down(aws: EmbeddedAWS, spec: dict[str, Any], flow: str) -> None:
    _expect(aws.provision(spec), "SUCCEEDED", flow)
    _expect(aws.teardown(spec["name"]), "SUCCEEDED", f"{flow} teardown")


def run_flows(aws: EmbeddedAWS, workdir: Path) -> None:
    """Every path of every handler that calls AWS, run on the embedded AWS."""
    # The runbook's example, provisioned and torn down
    _provision_and_tear_down(aws, {"name": "iam-runbook"}, "runbook example")
    # HTTPS with a certificate from ACM
    spec = prerequisites.provide(aws, sample_spec("https", "iam-https"), workdir)
    _provision_and_tear_down(aws, spec, "https sample")
    # Secrets from SSM and Secrets Manager, an EFS volume mounted through an access point
    spec = prerequisites.provide(aws, sample_spec("secrets-volumes", "iam-secrets"), workdir)
    for volume in spec["container"]["volumes"]:
        if volume.get("efs"):
            volume["efs"]["access_point_id"] = aws.client("efs").create_access_point(
                FileSystemId=volume["efs"]["file_system_id"]
            )["AccessPointId"]
    _provision_and_tear_down(aws, spec, "secrets-volumes sample")
    # A cluster that the account's first CreateCluster left without its capacity providers
    # (ECS's service-linked role not assumable yet): the retry completes it
    left = {naming.ENVIRONMENT_TAG: "iam-slr", naming.MANAGED_BY_TAG: aws.stack_name}
    aws.client("ecs").create_cluster(clusterName="fenv-iam-slr", tags=naming.as_ecs_tags(left))
    _provision_and_tear_down(aws, {"name": "iam-slr"}, "cluster left without capacity providers")
    # The README's internal NLB: the verify step asks the in-VPC probe to GET it
    _provision_and_tear_down(aws, {"name": "iam-internal", "load_balancers": [INTERNAL_NLB]}, "nlb")
    # Shared mode: the first environment makes the gateway, one restricted to some addresses
    # (a source-ip rule on its listener) joins it; each teardown removes only its own routes
    # (the port after the first one's taken outside fargate-env: the second moves to another)
    _expect(aws.provision({"name": "iam-shared", "mode": "shared"}), "SUCCEEDED", "shared")
    foreign = foreign_listener(aws, gateways.DEFAULT_FIRST_PORT + 1)
    restricted = {"id": "web", "ingress_cidrs": ["198.51.100.0/24"]}
    spec = {"name": "iam-shared-ip", "mode": "shared", "load_balancers": [restricted]}
    _provision_and_tear_down(aws, spec, "shared, restricted")
    _expect(aws.teardown("iam-shared"), "SUCCEEDED", "shared teardown")
    aws.client("elbv2").delete_listener(ListenerArn=foreign)
    # A protected load balancer: create_listeners reads the OIDC client secret
    spec = prerequisites.provide(aws, sample_spec("https", "iam-auth"), workdir)
    secret = aws.client("secretsmanager").create_secret(
        Name="fargate-env/iam-auth/oidc", SecretString="client-secret"
    )["ARN"]
    spec["load_balancers"][0]["authentication"] = {
        "type": "oidc",
        "issuer": "https://idp.example.com",
        "authorization_endpoint": "https://idp.example.com/authorize",
        "token_endpoint": "https://idp.example.com/token",
        "user_info_endpoint": "https://idp.example.com/userinfo",
        "client_id": "iam",
        "client_secret_arn": secret,
    }
    _provision_and_tear_down(aws, spec, "protected https sample")
    run_gateway_flows(aws, workdir)
    # A time to live: the expiry schedule is created, and removed by the teardown
    _provision_and_tear_down(aws, {"name": "iam-ttl", "time_to_live_minutes": 60}, "ttl")
    # A failed provisioning, rolled back
    aws.reconfigure(faults=Faults(steps=[StepFault(step="create_service", when="after")]))
    _expect(aws.provision({"name": "iam-failed"}), "FAILED", "failed provisioning")
    aws.reconfigure(faults=Faults())
    # A teardown of a name never created
    _expect(aws.teardown("iam-unknown"), "SUCCEEDED", "teardown of an unknown name")
    # A certificate from IAM that does not exist: rejected before anything is created
    iam_certificate = f"arn:aws:iam::{ACCOUNT_ID}:server-certificate/iam-missing"
    https = {"port": 443, "protocol": "HTTPS", "certificate_arn": iam_certificate}
    rejected = aws.provision(
        {"name": "iam-cert", "load_balancers": [{"id": "web", "listeners": [https]}]}
    )
    _expect(rejected, "FAILED", "missing IAM server certificate")
    # A name that is ready, provisioned again: the claim reads who holds it
    assert aws.provision({"name": "iam-ready"}).status == "SUCCEEDED"
    _expect(aws.provision({"name": "iam-ready"}), "FAILED", "ready name provisioned again")
    _expect(aws.teardown("iam-ready"), "SUCCEEDED", "ready name teardown")
    # Two creates of one name at once: the loser asks whether the winner still runs
    arns = [
        aws.start_execution(aws.provision_arn, {"spec": {"name": "iam-race"}}, f"race-{i}")
        for i in (1, 2)
    ]
    assert sorted(aws.wait(arn).status for arn in arns) == ["FAILED", "SUCCEEDED"]
    _expect(aws.teardown("iam-race"), "SUCCEEDED", "race teardown")
    # A teardown requested while the environment is being created waits for the creation
    creating = aws.start_execution(aws.provision_arn, {"spec": {"name": "iam-busy"}}, "busy")
    deadline = time.monotonic() + 60
    while not _claimed(aws, "iam-busy"):
        assert time.monotonic() < deadline, "the provisioning never claimed its name"
        time.sleep(0.01)
    _expect(aws.teardown("iam-busy"), "SUCCEEDED", "teardown while creating")
    _expect(aws.wait(creating), "SUCCEEDED", "creation under a teardown")
    # A failure after the environment was recorded ready, retained, then resumed with a changed
    # spec: every step adopts what exists (tags read), the service and the schedule are updated
    spec = {"name": "iam-resume", "on_failure": "retain", "time_to_live_minutes": 60}
    faults = [StepFault(step="record_environment_ready", when="after", times=1)]
    aws.reconfigure(faults=Faults(steps=faults))
    _expect(aws.provision(spec), "FAILED", "failure after ready, retained")
    aws.reconfigure(faults=Faults())
    spec["container"] = {"environment": {"RELEASE": "2"}}
    _provision_and_tear_down(aws, spec, "resumed with a changed spec")
    # Tasks that keep stopping: the stability check reads why
    aws.reconfigure(faults=Faults(tasks_stop_reason="Essential container in task exited"))
    unstable = {"name": "iam-unstable", "polling": {"interval_seconds": 5, "deadline_seconds": 600}}
    _expect(aws.provision(unstable), "FAILED", "tasks that keep stopping")
    aws.reconfigure(faults=Faults())
    # A real application: its own task role and ECS Exec, a sidecar it waits for, a secret, a
    # command before traffic (its exit code and its logs read)
    spec = prerequisites.provide(aws, sample_spec("app", "iam-app"), workdir)
    _provision_and_tear_down(aws, spec, "app sample")
    # A pre-traffic command still running at its timeout: the check stops it
    aws.reconfigure(faults=Faults(one_off_run_seconds=None))
    late = {"command": ["sleep", "3600"], "timeout_seconds": 30}
    _expect(aws.provision({"name": "iam-late", "pre_traffic_task": late}), "FAILED", "timeout")
    # A failure once the command runs: the rollback's teardown stops the task
    faults = [StepFault(step="run_pre_traffic_task", when="after")]
    aws.reconfigure(faults=Faults(one_off_run_seconds=None, steps=faults))
    _expect(aws.provision({"name": "iam-cut", "pre_traffic_task": late}), "FAILED", "cut short")
    aws.reconfigure(faults=Faults())
    run_update_flows(aws)
    run_reconcile_flows(aws)


def run_gateway_flows(aws: EmbeddedAWS, workdir: Path) -> None:
    """Shared mode with a domain and a hosted zone, and the gateways machine: the empty gateways
    removed; the first environment makes a gateway holding the wildcard record, the second (a
    gateway of one) writes its own record; each teardown deletes its rule (and record); the
    gateways removed again (the wildcard record with them), then one kept warm and removed."""
    idle = {"GATEWAY_IDLE_MINUTES": "0"}
    with deployment_settings(aws, **idle):
        _expect(aws.maintain_gateways(), "SUCCEEDED", "gateways: remove the empty ones")
    domain = prerequisites.gateway_domain(aws, "iam.example.test", workdir)
    with_domain = {
        "GATEWAY_DOMAIN": domain["GatewayDomain"],
        "GATEWAY_CERTIFICATE_ARN": domain["GatewayCertificateArn"],
        "GATEWAY_HOSTED_ZONE_ID": domain["GatewayHostedZoneId"],
        "GATEWAY_MAX_ENVIRONMENTS": "1",
    }
    with deployment_settings(aws, **with_domain):
        _expect(aws.provision({"name": "iam-host-a", "mode": "shared"}), "SUCCEEDED", "host a")
        _provision_and_tear_down(aws, {"name": "iam-host-b", "mode": "shared"}, "host b")
        _expect(aws.teardown("iam-host-a"), "SUCCEEDED", "host a teardown")
    with deployment_settings(aws, **with_domain, **idle):
        _expect(aws.maintain_gateways(), "SUCCEEDED", "gateways: remove the wildcard's")
    with deployment_settings(aws, **with_domain, GATEWAY_WARM_COUNT="1"):
        warm = aws.maintain_gateways()
        _expect(warm, "SUCCEEDED", "gateways: keep one warm")
        # A make cut short before it recorded the gateway READY: the next run adopts what it made
        [made] = warm.output["plan"]["create"]
        aws.client("dynamodb").update_item(
            TableName=aws.physical["RegistryTable"],
            Key={"name": {"S": f"gateway#{made}"}},
            UpdateExpression="SET #status = :creating",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":creating": {"S": "CREATING"}},
        )
        _expect(aws.maintain_gateways(), "SUCCEEDED", "gateways: finish one left CREATING")
    with deployment_settings(aws, **with_domain, **idle):
        _expect(aws.maintain_gateways(), "SUCCEEDED", "gateways: remove the warm one")


NEW_IMAGE, MISSING_IMAGE = "public.ecr.aws/nginx/nginx:1.27", "public.ecr.aws/nginx/nginx:none"


def run_update_flows(aws: EmbeddedAWS) -> None:
    """Updates: a good one (old revisions beyond the kept ones cleaned, the health check
    changed in place), an infrastructure change refused, a bad image the circuit breaker rolls
    back, a failed check the update rolls back itself, and an update while another runs (it
    asks whether that one still runs)."""
    polling = {"polling": {"interval_seconds": 5, "deadline_seconds": 600}}
    spec = {"name": "iam-update", **polling}
    _expect(aws.provision(spec), "SUCCEEDED", "update: create")
    register_old_revisions(aws, "iam-update", bounds.KEPT_TASK_DEFINITION_REVISIONS)
    # A new image and the target group's health check (changed in place)
    checked = [{"id": "web", "target_group": {"health_check": {"path": "/healthz"}}}]
    changed = {**spec, "container": {"image": NEW_IMAGE}, "load_balancers": checked}
    _expect(aws.update(changed), "SUCCEEDED", "update")
    _expect(aws.update({**spec, "tags": {"team": "web"}}), "FAILED", "infrastructure change")
    aws.reconfigure(faults=Faults(missing_images=frozenset({MISSING_IMAGE})))
    _expect(aws.update({**spec, "container": {"image": MISSING_IMAGE}}), "FAILED", "bad image")
    # A failed check: the revision and the health check are put back
    aws.reconfigure(faults=Faults(steps=[StepFault(step="verify_update", when="after")]))
    _expect(aws.update({**spec, "container": {"environment": {"N": "1"}}}), "FAILED", "check")
    held = Hold("roll_out_update")
    aws.reconfigure(faults=Faults(holds=[held]))
    first = aws.start_execution(aws.update_arn, {"spec": spec}, "iam-update-first")
    assert held.reached.wait(60), "the first update never reached its rollout"
    aws.clock.advance(1.0)  # requested after the first (a tie would supersede it instead)
    _expect(aws.update(spec), "FAILED", "update while another runs")
    held.release()
    _expect(aws.wait(first), "SUCCEEDED", "the first update")
    aws.reconfigure(faults=Faults())
    _expect(aws.teardown("iam-update"), "SUCCEEDED", "update: teardown")
    # An internal NLB updated: the verify step asks the in-VPC probe to GET it
    internal = {"name": "iam-upd-int", "load_balancers": [INTERNAL_NLB], **polling}
    _expect(aws.provision(internal), "SUCCEEDED", "internal update: create")
    _expect(aws.update({**internal, "container": {"image": NEW_IMAGE}}), "SUCCEEDED", "internal")
    _expect(aws.teardown("iam-upd-int"), "SUCCEEDED", "internal update: teardown")


def run_reconcile_flows(aws: EmbeddedAWS) -> None:
    """The reaper: a stale update it puts back to READY (it asks whether the update still runs
    and reads the service and its targets), an expired environment whose schedule is gone (it
    reads the schedule), an orphan (it lists the tagged resources and asks whether its cluster
    is still ACTIVE); it starts their teardowns and publishes its report."""
    polling = {"polling": {"interval_seconds": 5, "deadline_seconds": 600}}
    stale = {"name": "iam-stale", **polling}
    _expect(aws.provision(stale), "SUCCEEDED", "reconcile: create")
    faults = [StepFault(step="roll_out_update"), StepFault(step="record_update_failure")]
    aws.reconfigure(faults=Faults(steps=faults))
    _expect(aws.update({**stale, "container": {"image": NEW_IMAGE}}), "FAILED", "stale update")
    aws.reconfigure(faults=Faults())
    _expect(aws.provision({"name": "iam-expired", "time_to_live_minutes": 60}), "SUCCEEDED", "ttl")
    aws.client("scheduler").delete_schedule(Name=naming.schedule_name("iam-expired"))
    _expect(aws.provision({"name": "iam-orphan"}), "SUCCEEDED", "reconcile: orphan")
    aws.client("dynamodb").delete_item(
        TableName=aws.physical["RegistryTable"], Key={"name": {"S": "iam-orphan"}}
    )
    aws.clock.advance(3_601)
    arn = aws.start_execution(aws.outputs["ReconcileStateMachineArn"], {}, "iam-reconcile")
    done = aws.wait(arn)
    _expect(done, "SUCCEEDED", "reconcile")
    assert done.output["restored"] == ["iam-stale"], done.output
    for started in done.output["started"]:
        _expect(aws.wait(started["execution"]), "SUCCEEDED", f"reaped {started['name']}")
    _expect(aws.teardown("iam-stale"), "SUCCEEDED", "reconcile: teardown")


def register_old_revisions(aws: EmbeddedAWS, name: str, count: int) -> None:
    """`count` more revisions of the environment's task definition, as earlier updates leave."""
    ecs = aws.client("ecs")
    described = ecs.describe_task_definition(taskDefinition=f"fenv-{name}", include=["TAGS"])
    definition = described["taskDefinition"]
    fields = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "executionRoleArn")
    request = {key: definition[key] for key in fields if key in definition}
    for _ in range(count):
        ecs.register_task_definition(
            **request, requiresCompatibilities=["FARGATE"], tags=described["tags"]
        )


def _claimed(aws: EmbeddedAWS, name: str) -> bool:
    item = aws.client("dynamodb").get_item(
        TableName=aws.physical["RegistryTable"], Key={"name": {"S": name}}
    )
    return item.get("Item", {}).get("status", {}).get("S") == "CREATING"


@pytest.fixture(scope="module")
def iam_aws() -> Iterator[EmbeddedAWS]:
    """The one embedded AWS of this module (two at once would share moto's account and the
    emulator's patches)."""
    with EmbeddedAWS(model=FAST, parameters=probe_in_the_default_vpc) as aws:
        yield aws


@pytest.fixture(scope="module")
def calls_by_step(
    iam_aws: EmbeddedAWS, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, set[str]]:
    """Step -> the IAM actions of the AWS calls its handler made in the flows."""
    run_flows(iam_aws, tmp_path_factory.mktemp("iam-flows"))
    return {
        step: {iam_action(call) for call in calls}
        for step, calls in iam_aws.counters.calls_by_step.items()
    }


def test_every_step_is_a_function_with_its_own_role():
    roles = [step_role(step) for step in STEPS]
    assert len(STEPS) >= 29
    assert len(set(roles)) == len(roles)


@pytest.mark.slow
def test_the_flows_reach_every_step_that_calls_aws(calls_by_step):
    assert set(calls_by_step) <= set(STEPS)
    without_calls = set(STEPS) - set(calls_by_step)
    # Only the steps that call no AWS API at all
    assert without_calls == {"validate_spec", "probe_endpoint"}


def in_a_vpc(step: str) -> bool:
    function = template_module.load_sam_template()["Resources"][STEPS[step]]
    return "VpcConfig" in function["Properties"]


@pytest.mark.slow
@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_step_may_make_every_call_it_makes_and_what_aws_checks_on_its_caller(
    calls_by_step, step
):
    statements = role_statements(step_role(step))
    calls = calls_by_step.get(step, set())
    needed = calls | checked_on_caller(calls) | (set(VPC_ATTACHMENT) if in_a_vpc(step) else set())
    missing = sorted(action for action in needed if not any(s.grants(action) for s in statements))
    assert missing == [], f"{step_role(step)} lacks {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_step_may_make_only_the_calls_it_makes(calls_by_step, step):
    calls = calls_by_step.get(step, set())
    needed = calls | checked_on_caller(calls) | set(IMPLICIT)
    if in_a_vpc(step):
        needed |= set(VPC_ATTACHMENT)
    excess = sorted(allowed_actions(role_statements(step_role(step))) - needed)
    assert excess == [], f"{step_role(step)} allows {excess}, never called by {step}"


#: The steps that claim an environment in the registry. A claim held by another execution asks
#: whether that one still runs (registry.execution_running), whichever machine it is of: a
#: create finds a teardown, a teardown finds a creation or an update, an update finds an update.
CLAIMING_STEPS = ("claim_environment", "begin_teardown", "begin_update")


@pytest.mark.parametrize("step", CLAIMING_STEPS)
def test_a_claiming_step_may_ask_about_the_executions_of_every_machine_that_holds_claims(step):
    resources = [
        json.dumps(resource)
        for statement in role_statements(step_role(step))
        if statement.grants("states:DescribeExecution")
        for resource in statement.resources
    ]
    for machine in ("provision", "teardown", "update"):
        assert any(f"execution:${{AWS::StackName}}-{machine}:*" in r for r in resources), (
            f"{step_role(step)} may not describe the {machine} machine's executions: {resources}"
        )


def test_every_implicit_permission_has_a_reason():
    for action, reason in IMPLICIT.items():
        assert reference_entry(action) is not None, action
        assert len(reason.split()) >= 6, action


def test_every_permission_checked_on_a_caller_exists_and_has_its_aws_source():
    for call, checks in CHECKED_ON_CALLER.items():
        assert reference_entry(call) is not None, call
        for checked in checks:
            assert checked.source.startswith("https://docs.aws.amazon.com/"), call
            for permission in checked.permissions:
                assert reference_entry(permission) is not None, f"{call}: {permission}"


@pytest.mark.parametrize("call", sorted(SERVICE_LINKED_ROLES))
def test_a_step_may_create_only_the_service_linked_role_of_the_service_it_calls(call):
    service = SERVICE_LINKED_ROLES[call]
    steps = {
        "elasticloadbalancing:CreateLoadBalancer": "create_load_balancer",
        "ecs:CreateCluster": "create_cluster",
    }
    grants = [
        s
        for s in role_statements(step_role(steps[call]))
        if s.grants("iam:CreateServiceLinkedRole")
    ]
    assert grants, call
    for statement in grants:
        condition = (statement.condition or {}).get("StringEquals", {})
        assert condition.get("iam:AWSServiceName") == service, statement.sid
        assert all(f"/aws-service-role/{service}/" in str(r) for r in statement.resources)


# ---------------------------------------------------------------------------- 5. who may do what
def state_machine_roles() -> dict[str, str]:
    cfn = translated()
    return {
        machine: str(resource["Properties"]["RoleArn"]["Fn::GetAtt"][0])
        for machine, resource in resources_of(cfn, "AWS::StepFunctions::StateMachine").items()
    }


@pytest.mark.parametrize("machine", sorted(state_machine_roles()))
def test_a_state_machine_may_use_lambda_only_to_invoke_its_own_functions(machine):
    cfn = translated()
    props = cfn["Resources"][machine]["Properties"]
    own = {
        value["Fn::GetAtt"][0]
        for value in props["DefinitionSubstitutions"].values()
        if isinstance(value, dict)
        and "Fn::GetAtt" in value
        and cfn["Resources"][value["Fn::GetAtt"][0]]["Type"] == "AWS::Lambda::Function"
    }
    lambda_grants = [
        s
        for s in role_statements(state_machine_roles()[machine])
        if any(a.lower().startswith("lambda:") for a in s.actions)
    ]
    assert {a for s in lambda_grants for a in s.actions} == {"lambda:InvokeFunction"}
    invoked = {r["Fn::GetAtt"][0] for s in lambda_grants for r in s.resources}
    assert invoked == own


def start_execution_grants() -> dict[str, list[Any]]:
    """Role -> the resources it may start executions of (roles that may start none: absent)."""
    found: dict[str, list[Any]] = {}
    for owner, statements in POLICIES.items():
        for statement in statements:
            if statement.grants("states:StartExecution"):
                found.setdefault(owner, []).extend(statement.resources)
    return found


def rule_and_schedule_targets() -> list[dict[str, Any]]:
    """The targets of the EventBridge rules and of the template's own Scheduler schedules."""
    cfn = translated()
    targets = [
        target
        for rule in resources_of(cfn, "AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
    ]
    schedules = resources_of(cfn, "AWS::Scheduler::Schedule").values()
    return targets + [schedule["Properties"]["Target"] for schedule in schedules]


def test_only_the_rules_schedules_rollback_reaper_and_workflow_may_start_executions():
    expected: dict[str, list[Any]] = {}
    for target in rule_and_schedule_targets():
        role = target["RoleArn"]["Fn::GetAtt"][0]
        expected.setdefault(role, []).append(target["Arn"])
    teardown = {"Ref": "TeardownStateMachine"}
    # The provisioning machine rolls back with the teardown machine; the expiry schedule
    # starts the teardown machine; the gateways schedule, the gateways machine.
    expected[state_machine_roles()["ProvisionStateMachine"]] = [teardown]
    expected["ExpirySchedulerRole"] = [teardown]
    # The pull-request workflow's role (optional) runs fenv up/down: the three machines
    # (tests/contract/test_github_role.py)
    expected["GitHubDeployRole"] = [
        {"Ref": "ProvisionStateMachine"},
        {"Ref": "UpdateStateMachine"},
        teardown,
    ]
    # The reaper starts the teardown machine; the schedules start the reaper and the gateways
    # machine.
    expected["ReapLeftoversFunctionRole"] = [teardown]
    assert expected["ReconcileSchedulerRole"] == [{"Ref": "ReconcileStateMachine"}]
    assert expected["GatewaysScheduleRole"] == [{"Ref": "GatewaysStateMachine"}]
    assert len(expected) == 9
    assert start_execution_grants() == expected


def test_each_rule_or_schedule_role_may_do_nothing_but_start_its_machine():
    for target in rule_and_schedule_targets():
        statements = role_statements(target["RoleArn"]["Fn::GetAtt"][0])
        assert [(s.actions, s.resources) for s in statements] == [
            (("states:StartExecution",), (target["Arn"],))
        ]


def test_the_provisioning_machine_follows_only_teardown_executions():
    role = state_machine_roles()["ProvisionStateMachine"]
    for statement in role_statements(role):
        for action in statement.actions:
            if action.startswith("states:") and action != "states:StartExecution":
                for resource in statement.resources:
                    assert ":execution:${AWS::StackName}-teardown:" in resource["Fn::Sub"], action


#: Condition keys KMS evaluates for each service principal of our key policy, as AWS documents
#: them: a key the request does not carry makes the statement never match, and the service's
#: deliveries fail silently.
KEY_POLICY_CONDITION_KEYS: dict[str, tuple[frozenset[str], str]] = {
    "logs.${AWS::Region}.amazonaws.com": (
        frozenset({"kms:EncryptionContext:aws:logs:arn"}),
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
    ),
    # The documented statement for an EventBridge target encrypted with a customer managed key
    # has no condition: the source keys are not supported for EventBridge deliveries.
    "events.amazonaws.com": (
        frozenset(),
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html",
    ),
    "cloudwatch.amazonaws.com": (
        frozenset({"aws:SourceAccount", "aws:SourceArn"}),
        "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html",
    ),
}


def _service(principal: Any) -> str:
    value = principal["Service"]
    return str(value["Fn::Sub"] if isinstance(value, dict) else value)


def test_key_policies_name_only_conditions_kms_evaluates_for_that_service():
    for key_id, key in resources_of(translated(), "AWS::KMS::Key").items():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            if "Service" not in statement["Principal"]:
                continue
            where = f"{key_id} {statement.get('Sid')}"
            service = _service(statement["Principal"])
            assert service in KEY_POLICY_CONDITION_KEYS, f"{where}: {service} not documented"
            supported, _ = KEY_POLICY_CONDITION_KEYS[service]
            named = {key for test in (statement.get("Condition") or {}).values() for key in test}
            assert named <= supported, f"{where}: {sorted(named - supported)} never match"


def test_key_policies_delegate_to_iam_and_give_services_only_named_actions_under_conditions():
    keys = resources_of(translated(), "AWS::KMS::Key")
    assert keys
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    for key_id, key in keys.items():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            where = f"{key_id} {statement.get('Sid')}"
            principal = statement["Principal"]
            if principal == {"AWS": root}:
                # AWS's default key policy: the account manages the key through IAM policies
                # (without it the key can become unmanageable); nobody else is named.
                assert as_list(statement["Action"]) == ["kms:*"], where
                continue
            assert list(principal) == ["Service"], where
            # A condition wherever KMS evaluates one for the service
            if KEY_POLICY_CONDITION_KEYS[_service(principal)][0]:
                assert statement.get("Condition"), f"{where}: a service statement needs one"
            for action in as_list(statement["Action"]):
                assert "*" not in action, where
                assert reference_entry(action) is not None, where


#: Under each secret prefix: the folder named by the reading role's environment tag, and the
#: shared folder. Nothing else in the template reads a secret's value.
OWN_FOLDER = "${!aws:PrincipalTag/fargate-env:environment}/*"
SHARED_FOLDER = "${SharedSecretsName}/*"
SECRET_PREFIXES = {
    "ssm": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    "${SecretsSsmPathPrefix}",
    "secretsmanager": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
    "secret:${SecretsManagerNamePrefix}",
}
BOUNDARY = "TaskExecutionRoleBoundary"


def test_only_the_execution_role_boundary_reads_secrets_and_only_its_environments_and_shared():
    cfn = translated()
    parameters = cfn["Parameters"]
    assert {"SecretsSsmPathPrefix", "SecretsManagerNamePrefix", "SharedSecretsName"} <= set(
        parameters
    )
    # The shared folder starts with "_", which no environment name can: no environment owns it
    assert parameters["SharedSecretsName"]["AllowedPattern"].startswith("^_")
    readers = {
        owner: [s for s in statements if any(s.grants(a) for a in SECRET_READS)]
        for owner, statements in POLICIES.items()
    }
    readers = {owner: grants for owner, grants in readers.items() if grants}
    # Besides the create_listeners step (a protected load balancer's OIDC client secret, below),
    # no role of the template: each environment's role is made by create_execution_role and
    # bounded by this policy
    assert set(readers) == {BOUNDARY, CLIENT_SECRET_READER}
    services = set()
    for statement in readers[BOUNDARY]:
        for action in statement.actions:
            service = action.split(":")[0]
            services.add(service)
            assert statement.resources == (
                {"Fn::Sub": SECRET_PREFIXES[service] + OWN_FOLDER},
                {"Fn::Sub": SECRET_PREFIXES[service] + SHARED_FOLDER},
            ), action
    assert services == {"ssm", "secretsmanager"}


#: The one step role that reads a secret's value: the OIDC client secret of a protected load
#: balancer, handed to ELBv2 in the authenticate action.
CLIENT_SECRET_READER = "CreateListenersFunctionRole"


def test_only_create_listeners_reads_client_secrets_and_only_under_the_secrets_prefix():
    [statement] = [
        s
        for s in POLICIES[CLIENT_SECRET_READER]
        if any(s.grants(action) for action in SECRET_READS)
    ]
    assert statement.actions == ("secretsmanager:GetSecretValue",)
    # (validate_spec narrows it to the environment's own folder and the shared one: its role
    # has no environment tag for IAM to match)
    assert statement.resources == ({"Fn::Sub": SECRET_PREFIXES["secretsmanager"] + "*"},)


def test_create_execution_role_may_create_only_roles_carrying_the_boundary():
    grants = [
        s
        for s in role_statements(step_role("create_execution_role"))
        if s.grants("iam:CreateRole") or s.grants("iam:PutRolePolicy")
    ]
    assert {a for s in grants for a in s.actions} == {"iam:CreateRole", "iam:PutRolePolicy"}
    for statement in grants:
        condition = statement.condition["StringEquals"]["iam:PermissionsBoundary"]
        assert condition == {"Ref": BOUNDARY}, statement.sid


def test_the_boundary_pulls_from_this_accounts_ecr_or_the_allowed_repositories_logs_its_own():
    ecr_resources = []
    for statement in POLICIES[BOUNDARY]:
        for action in statement.actions:
            if action.startswith("logs:"):
                assert statement.resources == (
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                        "log-group:/fargate-env/${!aws:PrincipalTag/fargate-env:environment}:*"
                    },
                )
            elif action.startswith("ecr:") and action != "ecr:GetAuthorizationToken":
                ecr_resources.extend(statement.resources)
    assert set(map(json.dumps, ecr_resources)) == {
        json.dumps(
            {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}
        ),
        json.dumps({"Ref": "EcrPullRepositoryArns"}),
    }


def test_secrets_decrypt_only_with_the_allowed_keys_only_through_ssm_and_secrets_manager():
    cfn = translated()
    # No keys by default: the secrets use AWS managed keys and nobody may decrypt with a CMK
    assert cfn["Parameters"]["SecretsKmsKeyArns"]["Default"] == ""
    assert cfn["Conditions"]["HasSecretsKmsKeys"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "SecretsKmsKeyArns"}]}, ""]}]
    }
    document = cfn["Resources"][BOUNDARY]["Properties"]["PolicyDocument"]
    [conditional] = [
        s["Fn::If"]
        for s in document["Statement"]
        if s.get("Fn::If", [""])[0] == "HasSecretsKmsKeys"
    ]
    [statement] = _statements(BOUNDARY, [conditional[1]], True)
    assert (statement.actions, statement.resources) == (
        ("kms:Decrypt",),
        ({"Ref": "SecretsKmsKeyArns"},),
    )
    assert statement.condition == {
        "StringEquals": {
            "kms:ViaService": [
                {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"},
                {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"},
            ]
        }
    }
    decrypters = {
        owner
        for owner, statements in POLICIES.items()
        if any(s.grants("kms:Decrypt") for s in statements)
    }
    # only the boundary: each environment's role decrypts within it (create_execution_role
    # writes the same statement into its policy when the deployment names keys)
    assert decrypters == {BOUNDARY}


# ---------------------------------------------------------------- 6. the policies, evaluated
# The template's policies as IAM would decide them, on the deployed stack (moto resolved every
# Fn::Sub): embedded_aws.iam_policy evaluates them, as the embedded AWS does at run time.
OTHER_REGION_ROLE = "role/fargate-env/fargate-env/fenv-demo-exec-eu-west-1"


@pytest.fixture(scope="module")
def deployed(iam_aws: EmbeddedAWS) -> dict[str, Any]:
    account = iam_aws.plane.inspect_account()

    def role_of(step: str) -> iam_policy.RolePolicies:
        arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{iam_aws.physical[step_role(step)]}"
        found = iam_policy.role(account.iam, arn)
        assert found is not None, step
        return found

    boundary_arn = iam_aws.physical["TaskExecutionRoleBoundary"]
    boundary = iam_policy.document(account.iam.get_policy(boundary_arn).versions[0].document)
    return {
        "roles": {step: role_of(step) for step in STEPS},
        "boundary_arn": boundary_arn,
        "boundary": boundary,
        "exec_role": f"arn:aws:iam::{ACCOUNT_ID}:role/{iam_aws.physical['TaskRole']}",
    }


def _role(path: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:{path}"


PASSABLE = {
    "role/fargate-env-apps/shop-app": True,  # an application's, under AppTaskRolePath
    "role/fargate-env-apps/team/billing": True,
    "role/fargate-env/fargate-env/fenv-demo-exec-us-east-1": True,  # an environment's own
    "role/admin": False,
    "role/fargate-env-apps-evil/x": False,  # a lookalike path
    "role/fargate-env/other-stack/fenv-demo-exec-us-east-1": False,  # another deployment's
    OTHER_REGION_ROLE: False,  # this stack's name, another region
}


@pytest.mark.parametrize("step", ["register_task_definition", "run_pre_traffic_task"])
@pytest.mark.parametrize("path", sorted(PASSABLE))
def test_a_step_may_pass_only_the_allowed_roles_and_only_to_ecs_tasks(deployed, step, path):
    role = deployed["roles"][step]
    to_tasks = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    assert role.allows("iam:PassRole", _role(path), to_tasks) is PASSABLE[path]
    # never to another service, never without saying which
    assert not role.allows(
        "iam:PassRole", _role(path), {"iam:PassedToService": "lambda.amazonaws.com"}
    )
    assert not role.allows("iam:PassRole", _role(path))


def test_only_the_task_definition_and_run_task_steps_may_pass_roles_to_ecs_tasks(deployed):
    to_tasks = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    app_role = _role("role/fargate-env-apps/shop-app")
    passers = {
        step
        for step, role in deployed["roles"].items()
        if role.allows("iam:PassRole", app_role, to_tasks)
    }
    assert passers == {"register_task_definition", "run_pre_traffic_task"}
    assert deployed["roles"]["register_task_definition"].allows(
        "iam:PassRole", deployed["exec_role"], to_tasks
    )


def test_create_execution_role_may_create_a_role_only_with_the_boundary(deployed):
    role = deployed["roles"]["create_execution_role"]
    ours = _role("role/fargate-env/fargate-env/fenv-demo-exec-us-east-1")
    bounded = {"iam:PermissionsBoundary": deployed["boundary_arn"]}
    for action in ("iam:CreateRole", "iam:PutRolePolicy"):
        assert role.allows(action, ours, bounded)
        assert not role.allows(action, ours)  # without a boundary
        other = {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT_ID}:policy/anything"}
        assert not role.allows(action, ours, other)
        assert not role.allows(action, _role("role/fargate-env-apps/shop-app"), bounded)
        assert not role.allows(action, _role(OTHER_REGION_ROLE), bounded)


SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-env"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/fargate-env"


@pytest.mark.parametrize(
    ("action", "resource", "allowed"),
    [
        ("secretsmanager:GetSecretValue", f"{SECRET}/env-a/db-AbCdEf", True),
        ("secretsmanager:GetSecretValue", f"{SECRET}/_shared/smtp-AbCdEf", True),
        ("secretsmanager:GetSecretValue", f"{SECRET}/env-b/db-AbCdEf", False),
        ("secretsmanager:GetSecretValue", f"{SECRET}/env-a-evil/db-AbCdEf", False),
        ("ssm:GetParameters", f"{PARAMETER}/env-a/db-password", True),
        ("ssm:GetParameters", f"{PARAMETER}/_shared/smtp", True),
        ("ssm:GetParameters", f"{PARAMETER}/env-b/db-password", False),
        (
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/fargate-env/env-a:log-stream:x",
            True,
        ),
        (
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/fargate-env/env-b:log-stream:x",
            False,
        ),
        ("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/shop", True),
        ("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:210987654321:repository/shop", False),
        ("s3:GetObject", "arn:aws:s3:::any-bucket/key", False),
    ],
)
def test_the_boundary_caps_an_environments_role_at_its_own_and_the_shared_secrets(
    deployed, action, resource, allowed
):
    # Given environment env-a's execution role, even with a policy that would allow anything
    anything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    role = iam_policy.RolePolicies(
        arn=_role("role/fargate-env/fargate-env/fenv-env-a-exec-us-east-1"),
        identity=(anything,),
        boundary=deployed["boundary"],
        tags={naming.ENVIRONMENT_TAG: "env-a"},
    )
    # Then IAM lets it do only what the boundary allows its environment
    assert role.allows(action, resource) is allowed

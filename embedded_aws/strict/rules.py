"""The rules AWS enforces that moto does not, as data: the figure, AWS's answer when it is broken,
and where that behaviour is documented. docs/strict-rules.md renders this table (a contract test
keeps the two equal), and every figure the enforcing code uses is read from here.

`where` says which embedded AWS applies the rule: "both" (the flows' embedded AWS and the unit
tests' plain moto account), or "emulator" (it needs the simulated clock or the Step Functions
interpreter: only the embedded AWS that runs executions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ECS_THROTTLING: Final = (
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html"
)
ELB_THROTTLING: Final = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html"
)
EC2_THROTTLING: Final = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"
LAMBDA_QUOTAS: Final = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
LAMBDA_TROUBLESHOOTING: Final = (
    "https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html"
)
SFN_QUOTAS: Final = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
SFN_ERRORS: Final = (
    "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
)
ELB_QUOTAS: Final = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html"
)
VPC_QUOTAS: Final = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
ALB_AUTHENTICATION: Final = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "listener-authenticate-users.html"
)
ELB_ACTION: Final = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html"
)


@dataclass(frozen=True)
class Rule:
    id: str
    rule: str
    figure: str
    answer: str
    source: str
    where: Literal["both", "emulator"] = "both"


# The figures the enforcing code reads (one place, cited by the rules below).
LAMBDA_SYNC_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
#: Lambda's own wording of the response limit names 6,291,556 bytes (6 MiB plus 100).
LAMBDA_RESPONSE_LIMIT_IN_MESSAGE: Final = 6_291_556
STATES_PAYLOAD_BYTES: Final = 256 * 1024
HISTORY_EVENTS: Final = 25_000
TAGS_PER_RESOURCE: Final = 50
TAG_KEY_LENGTH: Final = 128
TAG_VALUE_LENGTH: Final = 256
TARGET_GROUPS_PER_ALB: Final = 100
RULES_PER_LISTENER: Final = 100
CONDITION_VALUES_PER_RULE: Final = 5
LISTENERS_PER_LOAD_BALANCER: Final = 50
CERTIFICATES_PER_LOAD_BALANCER: Final = 25
RULES_PER_SECURITY_GROUP: Final = 60
SECURITY_GROUPS_PER_INTERFACE: Final = 5
TASK_DEFINITION_BYTES: Final = 64 * 1024
SERVER_CERTIFICATE_NAME: Final = r"[\w+=,.@-]+"


@dataclass(frozen=True)
class Bucket:
    """An API token bucket: `burst` calls at once, then `refill` per second (rates.py)."""

    name: str
    service: str
    #: Action names or fnmatch patterns; empty: every action of the service no other bucket has.
    actions: frozenset[str]
    burst: int
    refill: float
    error: str


ECS_THROTTLED: Final = "ThrottlingException"
BUCKETS: Final = (
    Bucket(
        "ecs-service-mutations",
        "ecs",
        frozenset({"CreateService", "UpdateService", "DeleteService"}),
        50,
        5,
        ECS_THROTTLED,
    ),
    Bucket(
        "ecs-register-task-definition",
        "ecs",
        frozenset({"RegisterTaskDefinition"}),
        20,
        1,
        ECS_THROTTLED,
    ),
    Bucket("ecs-describe-services", "ecs", frozenset({"DescribeServices"}), 100, 20, ECS_THROTTLED),
    Bucket("ecs-run-stop-task", "ecs", frozenset({"RunTask", "StopTask"}), 100, 40, ECS_THROTTLED),
    Bucket("elbv2-describe", "elbv2", frozenset({"Describe*"}), 40, 10, "Throttling"),
    Bucket(
        "ec2-non-mutating",
        "ec2",
        frozenset({"Describe*", "Get*", "List*"}),
        100,
        20,
        "RequestLimitExceeded",
    ),
    Bucket("ec2-mutating", "ec2", frozenset(), 50, 5, "RequestLimitExceeded"),
)


def _bucket_rule(bucket: Bucket) -> Rule:
    calls = ", ".join(sorted(bucket.actions)) or "every other (mutating) call"
    return Rule(
        id=f"rate.{bucket.name}",
        rule=f"API rate: {bucket.service.upper()} {calls}, per account and region, for the calls "
        "our steps make",
        figure=f"burst {bucket.burst}, then {bucket.refill:g}/s (here: at most {bucket.burst} "
        f"in any {bucket.burst / bucket.refill:g} s of simulated time)",
        answer=f"{bucket.error} (\"Rate exceeded\"); boto3's standard retries and the ASL's "
        "AwsThrottled retry absorb it",
        source={"ecs": ECS_THROTTLING, "elbv2": ELB_THROTTLING, "ec2": EC2_THROTTLING}[
            bucket.service
        ],
        where="emulator",
    )


def _tag_rule(service: str, answer: str, characters: str, source: str) -> Rule:
    return Rule(
        id=f"tags.{service.lower().replace(' ', '-')}",
        rule=f"{service} tags, on create and on TagResource/AddTags/CreateTags",
        figure=f"{TAGS_PER_RESOURCE} per resource; keys 1-{TAG_KEY_LENGTH}, values "
        f"0-{TAG_VALUE_LENGTH} characters; {characters}; keys starting `aws:` (any case) "
        "reserved",
        answer=answer,
        source=source,
    )


_TAG_CHARACTERS: Final = "letters, digits, spaces and `_ . : / = + - @`"

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        id="lambda.timeout",
        rule="Lambda: each function's Timeout (template.yaml) per invocation, on the simulated "
        "clock",
        figure="the function's Timeout in seconds",
        answer='FunctionError Unhandled, errorType `Sandbox.Timedout`, "RequestId: ... Error: '
        'Task timed out after N.00 seconds"; Step Functions fails the Task with that error name '
        "(not a Lambda.* transient error: not retried)",
        source=f"{LAMBDA_TROUBLESHOOTING}#troubleshooting-timeouts; {LAMBDA_QUOTAS}",
        where="emulator",
    ),
    Rule(
        id="lambda.memory",
        rule="Lambda: each function's MemorySize. Proxy: the peak of the Python allocations made "
        "during an invocation (tracemalloc), moto's in-process answers included, the runtime's "
        "own baseline not; measured on each function's first warm invocation (tracing every "
        "invocation slows the suite several times; the runner can be told to)",
        figure="the function's MemorySize in MiB",
        answer='FunctionError Unhandled, errorType `Runtime.OutOfMemory`, "RequestId: ... '
        'Error: Runtime exited with error: signal: killed"',
        source=LAMBDA_QUOTAS,
        where="emulator",
    ),
    Rule(
        id="lambda.request-size",
        rule="Lambda: synchronous invocation request payload",
        figure="6 MB (6,291,456 bytes)",
        answer='HTTP 413 `RequestTooLargeException`, "Request must be smaller than 6291456 '
        'bytes for the InvokeFunction operation"',
        source=LAMBDA_QUOTAS,
        where="emulator",
    ),
    Rule(
        id="lambda.response-size",
        rule="Lambda: synchronous invocation response payload",
        figure="6 MB (6,291,456 bytes)",
        answer='FunctionError Unhandled, errorType `Function.ResponseSizeTooLarge`, "Response '
        'payload size exceeded maximum allowed payload size (6291556 bytes)."',
        source=LAMBDA_QUOTAS,
        where="emulator",
    ),
    Rule(
        id="states.payload",
        rule="Step Functions: a state's input after Arguments/Parameters, a task's result, a "
        "state's output",
        figure="256 KiB (262,144 bytes) as UTF-8 JSON",
        answer="`States.DataLimitExceeded` (a Task's failure: Catch can route it), \"The "
        "state/task '...' returned a result with a size exceeding the maximum number of bytes "
        'service limit."',
        source=f"{SFN_QUOTAS}#service-limits-task-executions; {SFN_ERRORS}",
        where="emulator",
    ),
    Rule(
        id="states.execution-input",
        rule="Step Functions: StartExecution input",
        figure="256 KiB (262,144 characters)",
        answer="`ValidationException`, \"1 validation error detected: Value at 'input' failed "
        'to satisfy constraint: Member must have length less than or equal to 262144"',
        source="https://docs.aws.amazon.com/step-functions/latest/apireference/"
        "API_StartExecution.html",
        where="emulator",
    ),
    Rule(
        id="states.history",
        rule="Step Functions: events in a Standard execution's history",
        figure=f"{HISTORY_EVENTS:,}",
        answer="the execution itself fails (no Catch runs): ExecutionFailed `States.Runtime`, "
        '"The execution reached the maximum number of history events (25000)."',
        source=f"{SFN_QUOTAS}; https://docs.aws.amazon.com/step-functions/latest/dg/"
        "bp-history-limit.html; error as reported in github.com/loads/ardere/issues/86",
        where="emulator",
    ),
    _tag_rule(
        "ECS",
        "`InvalidParameterException` naming the broken limit",
        _TAG_CHARACTERS,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html; botocore's "
        "ecs model (TagKey, TagValue, Tags max 50)",
    ),
    _tag_rule(
        "ELBv2",
        '`TooManyTags` ("The quota for the number of tags that can be assigned to a load '
        'balancer has been reached"); a bad key or value: `ValidationError`',
        _TAG_CHARACTERS,
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html;"
        f" {ELB_QUOTAS}",
    ),
    _tag_rule(
        "EC2",
        '`TagLimitExceeded` ("The maximum number of Tags for a resource has been reached."); '
        "a bad key or value: `InvalidParameterValue`",
        "any characters",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions",
    ),
    _tag_rule(
        "CloudWatch Logs",
        "`TooManyTagsException`; a bad key or value: `InvalidParameterException`",
        _TAG_CHARACTERS,
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"
        "API_TagResource.html; botocore's logs model (Tags max 50)",
    ),
    _tag_rule(
        "Scheduler",
        "`ValidationException` (only schedule groups take tags; schedules have none)",
        "any characters",
        "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_TagResource.html; "
        "https://docs.aws.amazon.com/general/latest/gr/aws_tagging.html (50 user tags per "
        "resource)",
    ),
    Rule(
        id="elbv2.subnet-per-zone",
        rule="ELBv2 CreateLoadBalancer/SetSubnets: subnets per Availability Zone",
        figure="1",
        answer='`InvalidConfigurationRequest`, "A load balancer cannot be attached to multiple '
        'subnets in the same Availability Zone"',
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
        "application-load-balancers.html#availability-zones; error as reported in "
        "github.com/robertdebock/terraform-aws-vault/issues/5",
    ),
    Rule(
        id="elbv2.alb-two-zones",
        rule="ELBv2 CreateLoadBalancer/SetSubnets: Availability Zones of an Application Load "
        "Balancer",
        figure="at least 2",
        answer='`ValidationError`, "At least two subnets in two different Availability Zones '
        'must be specified"',
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
        "application-load-balancers.html#availability-zones",
    ),
    Rule(
        id="elbv2.target-groups-per-alb",
        rule="ELBv2: unique target groups an Application Load Balancer forwards to, over its "
        "listeners' default actions and rules (not adjustable)",
        figure=str(TARGET_GROUPS_PER_ALB),
        answer="`TooManyUniqueTargetGroupsPerLoadBalancer`",
        source=ELB_QUOTAS,
    ),
    Rule(
        id="elbv2.rules-per-listener",
        rule="ELBv2 CreateRule: rules per listener, the default rule not counted",
        figure=str(RULES_PER_LISTENER),
        answer="`TooManyRules`, \"You've reached the limit on the number of rules per load "
        'balancer"',
        source=ELB_QUOTAS,
    ),
    Rule(
        id="elbv2.condition-values",
        rule="ELBv2 CreateRule/ModifyRule: condition values per rule",
        figure=str(CONDITION_VALUES_PER_RULE),
        answer="`ValidationError` naming the limit",
        source=ELB_QUOTAS,
    ),
    Rule(
        id="elbv2.listeners",
        rule="ELBv2 CreateListener: listeners per load balancer",
        figure=str(LISTENERS_PER_LOAD_BALANCER),
        answer="`TooManyListeners`, \"You've reached the limit on the number of listeners per "
        'load balancer"',
        source=ELB_QUOTAS,
    ),
    Rule(
        id="elbv2.duplicate-priority",
        rule="ELBv2 CreateRule: a priority another rule of the listener has (moto's own check)",
        figure="1 rule per priority per listener",
        answer='`PriorityInUse`, "The specified priority is in use"',
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
        "API_CreateRule.html",
    ),
    Rule(
        id="elbv2.duplicate-port",
        rule="ELBv2 CreateListener: a port another listener of the load balancer has",
        figure="1 listener per port per load balancer",
        answer='`DuplicateListener`, "A listener with the specified port already exists"',
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
        "API_CreateListener.html",
    ),
    Rule(
        id="elbv2.certificate-exists",
        rule="ELBv2 CreateListener/ModifyListener: an ACM certificate the listener names exists "
        "in ACM (moto registers any ARN)",
        figure="the certificate exists",
        answer="`CertificateNotFound`, \"Certificate '<arn>' not found\"",
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
        "API_CreateListener.html",
    ),
    Rule(
        id="elbv2.certificates",
        rule="ELBv2 AddListenerCertificates: certificates per load balancer besides the "
        "listeners' default ones",
        figure=str(CERTIFICATES_PER_LOAD_BALANCER),
        answer="`TooManyCertificates`, \"You've reached the limit on the number of "
        'certificates per load balancer"',
        source=ELB_QUOTAS,
    ),
    Rule(
        id="elbv2.authenticate-https-only",
        rule="ELBv2 CreateListener/ModifyListener/CreateRule/ModifyRule: authenticate-oidc and "
        "authenticate-cognito actions only on an HTTPS listener (an HTTP listener, or any "
        "listener of a Network Load Balancer, is refused)",
        figure="HTTPS listeners of an Application Load Balancer only",
        answer="`InvalidLoadBalancerAction` naming the listener's protocol",
        source=f"{ALB_AUTHENTICATION}; {ELB_ACTION} (AuthenticateOidcConfig, "
        "AuthenticateCognitoConfig: [HTTPS listeners])",
    ),
    Rule(
        id="elbv2.authenticate-config",
        rule="ELBv2: an authenticate action's configuration is complete: OIDC's Issuer, "
        "AuthorizationEndpoint, TokenEndpoint, UserInfoEndpoint, ClientId and (on create, or "
        "without UseExistingClientSecret) ClientSecret; Cognito's UserPoolArn, "
        "UserPoolClientId, UserPoolDomain",
        figure="every required member",
        answer="`ValidationError` naming the missing member; a missing client secret, or one "
        "given with UseExistingClientSecret: `InvalidLoadBalancerAction`",
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
        "API_AuthenticateOidcActionConfig.html; https://docs.aws.amazon.com/"
        "elasticloadbalancing/latest/APIReference/API_AuthenticateCognitoActionConfig.html; "
        "error as reported in github.com/ansible-collections/amazon.aws/issues/1877",
    ),
    Rule(
        id="elbv2.action-order",
        rule="ELBv2: with several actions each gives its Order (lowest first); exactly one "
        "forward, redirect or fixed-response, performed last (an authenticate action before it)",
        figure="1 final action, last by Order",
        answer="`ValidationError` (an Order missing) or `InvalidLoadBalancerAction`",
        source=f"{ELB_ACTION} (Order); https://docs.aws.amazon.com/elasticloadbalancing/latest/"
        "APIReference/API_CreateRule.html (Actions)",
    ),
    Rule(
        id="elbv2.nlb-security-groups",
        rule="ELBv2 SetSecurityGroups on a Network Load Balancer created without security groups",
        figure="refused (security groups only at creation)",
        answer='`InvalidConfigurationRequest`, "You cannot set security groups on a Network '
        'Load Balancer which was created without any security groups."',
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/network/"
        "load-balancer-security-groups.html; error as reported in "
        "github.com/kubernetes-sigs/cluster-api-provider-aws/issues/4790",
    ),
    Rule(
        id="ec2.rules-per-group",
        rule="EC2: inbound and outbound rules per security group, counted per CIDR; IPv4 and "
        "IPv6 counted separately; a rule naming a security group counts once in each",
        figure=f"{RULES_PER_SECURITY_GROUP} inbound and {RULES_PER_SECURITY_GROUP} outbound, "
        "per IP version",
        answer='`RulesPerSecurityGroupLimitExceeded`, "The maximum number of rules per '
        'security group has been reached."',
        source=f"{VPC_QUOTAS}#vpc-limits-security-groups",
    ),
    Rule(
        id="ec2.groups-per-interface",
        rule="Security groups per network interface: ELBv2 CreateLoadBalancer/SetSecurityGroups, "
        "ECS awsvpcConfiguration securityGroups",
        figure=str(SECURITY_GROUPS_PER_INTERFACE),
        answer="ELBv2 `ValidationError`; ECS `InvalidParameterException`",
        source=f"{VPC_QUOTAS}#vpc-limits-security-groups; https://docs.aws.amazon.com/"
        "AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html",
    ),
    Rule(
        id="iam.server-certificate-name",
        rule="IAM Get/Upload/DeleteServerCertificate: ServerCertificateName is the bare name",
        figure=f"1-128 characters of `{SERVER_CERTIFICATE_NAME}` (no `/`)",
        answer="`ValidationError`, \"1 validation error detected: Value '...' at "
        "'serverCertificateName' failed to satisfy constraint: Member must satisfy regular "
        'expression pattern: [\\w+=,.@-]+"',
        source="https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetServerCertificate.html",
    ),
    Rule(
        id="sts.web-identity-trust",
        rule="STS AssumeRoleWithWebIdentity: the token's issuer has an IAM OIDC provider in the "
        "account, its audience is one of the provider's client ids, and the role's trust policy "
        "allows the provider with the token's claims as condition keys (`<url>:aud`, `<url>:sub`)",
        figure="every token (the signature is not verified offline)",
        answer='`InvalidIdentityToken`, "No OpenIDConnect provider found in your account for '
        '<issuer>" / "Incorrect token audience"; `AccessDenied`, "Not authorized to perform '
        'sts:AssumeRoleWithWebIdentity"',
        source="https://docs.aws.amazon.com/STS/latest/APIReference/"
        "API_AssumeRoleWithWebIdentity.html; https://docs.aws.amazon.com/IAM/latest/UserGuide/"
        "reference_policies_iam-condition-keys.html#condition-keys-wif",
    ),
    Rule(
        id="ecs.task-definition-size",
        rule="ECS RegisterTaskDefinition: size of the task definition (its JSON)",
        figure="64 KiB (65,536 bytes)",
        answer="`ClientException`, \"Actual length: 'N'. Max allowed length is '65536' bytes.\"",
        source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html",
    ),
    *(_bucket_rule(bucket) for bucket in BUCKETS),
)


def rule(rule_id: str) -> Rule:
    return next(item for item in RULES if item.id == rule_id)


TABLE_HEADER: Final = (
    "| Rule | Figure | AWS's answer | Source | Applied by |\n| --- | --- | --- | --- | --- |"
)
WHERE: Final = {
    "both": "embedded AWS and the unit tests' moto",
    "emulator": "embedded AWS",
}


def table() -> str:
    """The rules as the Markdown table of docs/strict-rules.md."""
    rows = [
        f"| `{item.id}`: {item.rule} | {item.figure} | {item.answer} | {item.source} | "
        f"{WHERE[item.where]} |"
        for item in RULES
    ]
    return "\n".join([TABLE_HEADER, *rows])

"""The embedded AWS refuses what AWS refuses (embedded_aws/strict): each rule the plain moto
account of the unit tests applies, driven through boto3 as our code would meet it, answering with
AWS's error code. Each test names its rule's id (rules.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded_aws.strict import quotas, rules
from embedded_aws.strict.guards import Refusal
from tests.support import GITHUB_OIDC, github_token

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/task-execution"


def client(service: str):
    return boto3.client(service, region_name=REGION)


@contextmanager
def refused(code: str, *words: str) -> Iterator[None]:
    with pytest.raises(ClientError) as raised:
        yield
    error = raised.value.response["Error"]
    assert error["Code"] == code, error
    for word in words:
        assert word in error["Message"], error


def kv(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": "v"} for i in range(count)]


def ecs_tags(count: int) -> list[dict[str, str]]:
    return [{"key": f"k{i}", "value": "v"} for i in range(count)]


def default_subnets() -> dict[str, str]:
    """Availability Zone -> the default VPC's subnet there."""
    subnets = client("ec2").describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}]
    )["Subnets"]
    return {s["AvailabilityZone"]: s["SubnetId"] for s in subnets}


def second_subnet_in(zone: str) -> str:
    vpc = client("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
    return client("ec2").create_subnet(
        VpcId=vpc["Vpcs"][0]["VpcId"], CidrBlock="172.31.96.0/20", AvailabilityZone=zone
    )["Subnet"]["SubnetId"]


def security_group(name: str = "strict") -> str:
    vpc = client("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
    return client("ec2").create_security_group(
        GroupName=name, Description=name, VpcId=vpc["Vpcs"][0]["VpcId"]
    )["GroupId"]


# ------------------------------------------------------------------ tags
def test_ecs_tags_50_pass_51_are_refused_on_create_and_on_tag_resource(aws):
    # rule tags.ecs
    ecs = client("ecs")
    cluster = ecs.create_cluster(clusterName="fifty", tags=ecs_tags(50))["cluster"]
    with refused("InvalidParameterException", "50"):
        ecs.create_cluster(clusterName="fifty-one", tags=ecs_tags(51))
    with refused("InvalidParameterException", "51"):
        ecs.tag_resource(resourceArn=cluster["clusterArn"], tags=[{"key": "one-more", "value": ""}])
    # a key already there is replaced, not added
    ecs.tag_resource(resourceArn=cluster["clusterArn"], tags=[{"key": "k0", "value": "new"}])


def test_ecs_refuses_a_reserved_key_a_long_value_and_a_bad_character(aws):
    # rule tags.ecs
    ecs = client("ecs")
    for tag in (
        {"key": "AWS:team", "value": "x"},
        {"key": "team", "value": "v" * 257},
        {"key": "team!", "value": "x"},
        {"key": "k" * 129, "value": "x"},
    ):
        with refused("InvalidParameterException"):
            ecs.create_cluster(clusterName="bad-tag", tags=[tag])
    ecs.create_cluster(clusterName="good", tags=[{"key": "a b_c.d:e/f=g+h-i@j", "value": ""}])


def test_ecs_task_definitions_count_the_tags_of_the_request(aws):
    # rule tags.ecs
    ecs = client("ecs")
    definition = {
        "family": "tags",
        "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 512}],
    }
    ecs.register_task_definition(**definition, tags=ecs_tags(50))
    with refused("InvalidParameterException"):
        ecs.register_task_definition(**definition, tags=ecs_tags(51))


def test_elbv2_tags_up_to_50_on_create_and_add_tags_then_too_many(aws):
    # rule tags.elbv2 (moto alone stops AddTags at 10)
    elbv2 = client("elbv2")
    vpc = client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    group = elbv2.create_target_group(
        Name="tags", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", Tags=kv(10)
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.add_tags(ResourceArns=[group], Tags=kv(40, prefix="more"))
    with refused("TooManyTags"):
        elbv2.add_tags(ResourceArns=[group], Tags=[{"Key": "fifty-one", "Value": "x"}])
    with refused("TooManyTags"):
        elbv2.create_target_group(
            Name="tags51", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", Tags=kv(51)
        )
    with refused("ValidationError"):
        elbv2.add_tags(ResourceArns=[group], Tags=[{"Key": "k0", "Value": "no;semicolons"}])


def test_ec2_tags_on_create_are_checked_before_the_group_exists(aws):
    # rule tags.ec2
    ec2 = client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    spec = [{"ResourceType": "security-group", "Tags": kv(51)}]
    with refused("TagLimitExceeded"):
        ec2.create_security_group(
            GroupName="many", Description="x", VpcId=vpc, TagSpecifications=spec
        )
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["many"]}])[
        "SecurityGroups"
    ]
    group = security_group()
    with refused("InvalidParameterValue", "reserved"):
        ec2.create_tags(Resources=[group], Tags=[{"Key": "aws:owner", "Value": "me"}])
    with refused("InvalidParameterValue"):
        ec2.create_tags(Resources=[group], Tags=[{"Key": "k" * 129, "Value": "x"}])
    # EC2 takes any character
    ec2.create_tags(Resources=[group], Tags=[{"Key": "naïve; ok", "Value": "*"}])


def test_logs_tags_up_to_50_then_too_many(aws):
    # rule tags.cloudwatch-logs
    logs = client("logs")
    logs.create_log_group(logGroupName="/fifty", tags={f"k{i}": "v" for i in range(50)})
    with refused("TooManyTagsException"):
        logs.create_log_group(logGroupName="/fifty-one", tags={f"k{i}": "v" for i in range(51)})
    arn = f"arn:aws:logs:{REGION}:123456789012:log-group:/fifty"
    with refused("TooManyTagsException"):
        logs.tag_resource(resourceArn=arn, tags={"one-more": "x"})
    with refused("InvalidParameterException"):
        logs.tag_resource(resourceArn=arn, tags={"k0": "semi;colon"})


def test_scheduler_groups_take_at_most_50_tags(aws):
    # rule tags.scheduler
    scheduler = client("scheduler")
    group = scheduler.create_schedule_group(Name="fifty", Tags=kv(50))["ScheduleGroupArn"]
    with refused("ValidationException"):
        scheduler.create_schedule_group(Name="fifty-one", Tags=kv(51))
    with refused("ValidationException"):
        scheduler.tag_resource(ResourceArn=group, Tags=[{"Key": "one-more", "Value": "x"}])


# ------------------------------------------------------------------ ELBv2
def test_a_load_balancer_takes_one_subnet_per_zone_and_an_alb_two_zones(aws):
    # rules elbv2.subnet-per-zone, elbv2.alb-two-zones
    elbv2 = client("elbv2")
    subnets = default_subnets()
    zone_a, zone_b = sorted(subnets)[:2]
    same_zone = [subnets[zone_a], second_subnet_in(zone_a)]
    with refused("InvalidConfigurationRequest", "multiple subnets in the same Availability Zone"):
        elbv2.create_load_balancer(Name="same", Subnets=[*same_zone, subnets[zone_b]])
    with refused("ValidationError", "two different Availability Zones"):
        elbv2.create_load_balancer(Name="one", Subnets=[subnets[zone_a]])
    # a Network Load Balancer may live in one zone
    elbv2.create_load_balancer(Name="nlb", Subnets=[subnets[zone_a]], Type="network")
    alb = elbv2.create_load_balancer(Name="alb", Subnets=[subnets[zone_a], subnets[zone_b]])
    arn = alb["LoadBalancers"][0]["LoadBalancerArn"]
    with refused("InvalidConfigurationRequest", "same Availability Zone"):
        elbv2.set_subnets(LoadBalancerArn=arn, Subnets=same_zone)


def test_security_groups_of_an_nlb_only_at_creation_and_five_at_most(aws):
    # rules elbv2.nlb-security-groups, ec2.groups-per-interface
    elbv2 = client("elbv2")
    subnets = sorted(default_subnets().values())[:2]
    groups = [security_group(f"g{i}") for i in range(6)]
    bare = elbv2.create_load_balancer(Name="bare", Subnets=subnets, Type="network")
    with refused("InvalidConfigurationRequest", "created without any security groups"):
        elbv2.set_security_groups(
            LoadBalancerArn=bare["LoadBalancers"][0]["LoadBalancerArn"], SecurityGroups=groups[:1]
        )
    guarded = elbv2.create_load_balancer(
        Name="guarded", Subnets=subnets, Type="network", SecurityGroups=groups[:1]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.set_security_groups(LoadBalancerArn=guarded, SecurityGroups=groups[:5])
    with refused("ValidationError", "5"):
        elbv2.set_security_groups(LoadBalancerArn=guarded, SecurityGroups=groups)
    with refused("ValidationError"):
        elbv2.create_load_balancer(Name="six", Subnets=subnets, SecurityGroups=groups)


@pytest.fixture
def alb(aws) -> dict[str, str]:
    elbv2 = client("elbv2")
    vpc = client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    lb = elbv2.create_load_balancer(Name="quota", Subnets=sorted(default_subnets().values())[:2])
    group = elbv2.create_target_group(Name="tg0", Protocol="HTTP", Port=80, VpcId=vpc)
    return {
        "vpc": vpc,
        "lb": lb["LoadBalancers"][0]["LoadBalancerArn"],
        "tg": group["TargetGroups"][0]["TargetGroupArn"],
    }


def forward(group: str) -> list[dict[str, str]]:
    return [{"Type": "forward", "TargetGroupArn": group}]


def path(value: str, count: int = 1) -> list[dict]:
    return [{"Field": "path-pattern", "PathPatternConfig": {"Values": [value] * count}}]


def test_50_listeners_per_load_balancer(alb):
    # rule elbv2.listeners
    elbv2 = client("elbv2")
    for port in range(1000, 1000 + rules.LISTENERS_PER_LOAD_BALANCER):
        elbv2.create_listener(
            LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=port, DefaultActions=forward(alb["tg"])
        )
    with refused("TooManyListeners"):
        elbv2.create_listener(
            LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=80, DefaultActions=forward(alb["tg"])
        )


def test_a_port_or_a_priority_in_use_is_refused(alb):
    # rules elbv2.duplicate-port, elbv2.duplicate-priority (shared mode allocates both)
    elbv2 = client("elbv2")
    listener = elbv2.create_listener(
        LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=10000, DefaultActions=forward(alb["tg"])
    )["Listeners"][0]["ListenerArn"]
    with refused("DuplicateListener"):
        elbv2.create_listener(
            LoadBalancerArn=alb["lb"],
            Protocol="HTTP",
            Port=10000,
            DefaultActions=forward(alb["tg"]),
        )
    elbv2.create_rule(
        ListenerArn=listener, Priority=7, Conditions=path("/a"), Actions=forward(alb["tg"])
    )
    with refused("PriorityInUse"):
        elbv2.create_rule(
            ListenerArn=listener, Priority=7, Conditions=path("/b"), Actions=forward(alb["tg"])
        )


def test_100_rules_per_listener_with_at_most_5_condition_values(alb):
    # rules elbv2.rules-per-listener, elbv2.condition-values
    elbv2 = client("elbv2")
    listener = elbv2.create_listener(
        LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=80, DefaultActions=forward(alb["tg"])
    )["Listeners"][0]["ListenerArn"]
    with refused("ValidationError", "5"):
        elbv2.create_rule(
            ListenerArn=listener,
            Priority=1,
            Conditions=[
                *path("/a", 3),
                {"Field": "host-header", "HostHeaderConfig": {"Values": ["a", "b", "c"]}},
            ],
            Actions=forward(alb["tg"]),
        )
    for priority in range(1, rules.RULES_PER_LISTENER + 1):
        elbv2.create_rule(
            ListenerArn=listener,
            Priority=priority,
            Conditions=path(f"/{priority}", 5 if priority == 1 else 1),
            Actions=forward(alb["tg"]),
        )
    with refused("TooManyRules"):
        elbv2.create_rule(
            ListenerArn=listener, Priority=101, Conditions=path("/x"), Actions=forward(alb["tg"])
        )


def test_an_alb_forwards_to_at_most_100_target_groups_over_its_listeners(alb):
    # rule elbv2.target-groups-per-alb
    elbv2 = client("elbv2")
    groups = [alb["tg"]] + [
        elbv2.create_target_group(Name=f"tg{i}", Protocol="HTTP", Port=80, VpcId=alb["vpc"])[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for i in range(1, rules.TARGET_GROUPS_PER_ALB + 1)
    ]
    first = elbv2.create_listener(
        LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=80, DefaultActions=forward(groups[0])
    )["Listeners"][0]["ListenerArn"]
    for index in range(1, rules.TARGET_GROUPS_PER_ALB):  # rules 1..99 -> target groups 1..99
        elbv2.create_rule(
            ListenerArn=first,
            Priority=index,
            Conditions=path(f"/{index}"),
            Actions=forward(groups[index]),
        )
    # a second listener reusing a counted group is fine; the 101st group is not
    elbv2.create_listener(
        LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=81, DefaultActions=forward(groups[5])
    )
    with refused("TooManyUniqueTargetGroupsPerLoadBalancer"):
        elbv2.create_listener(
            LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=82, DefaultActions=forward(groups[100])
        )


def test_25_certificates_per_load_balancer_besides_the_defaults(alb):
    # rule elbv2.certificates
    elbv2 = client("elbv2")
    acm = client("acm")
    certificates = [
        acm.request_certificate(DomainName=f"c{i}.example.com")["CertificateArn"]
        for i in range(rules.CERTIFICATES_PER_LOAD_BALANCER + 2)
    ]
    listeners = [
        elbv2.create_listener(
            LoadBalancerArn=alb["lb"],
            Protocol="HTTPS",
            Port=port,
            Certificates=[{"CertificateArn": certificates[0]}],
            DefaultActions=forward(alb["tg"]),
        )["Listeners"][0]["ListenerArn"]
        for port in (443, 8443)
    ]
    extra = [{"CertificateArn": arn} for arn in certificates[1:]]
    elbv2.add_listener_certificates(ListenerArn=listeners[0], Certificates=extra[:20])
    elbv2.add_listener_certificates(ListenerArn=listeners[1], Certificates=extra[20:25])
    with refused("TooManyCertificates"):
        elbv2.add_listener_certificates(ListenerArn=listeners[1], Certificates=extra[25:])


# ------------------------------------------------------------------ EC2
def ingress(group: str, *ranges: str, source_group: str | None = None) -> None:
    permission: dict = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    permission["IpRanges"] = [{"CidrIp": cidr} for cidr in ranges if ":" not in cidr]
    permission["Ipv6Ranges"] = [{"CidrIpv6": cidr} for cidr in ranges if ":" in cidr]
    if source_group:
        permission["UserIdGroupPairs"] = [{"GroupId": source_group}]
    client("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])


def test_60_inbound_rules_per_ip_version_a_group_reference_counting_in_both(aws):
    # rule ec2.rules-per-group
    group, other = security_group("rules"), security_group("other")
    ingress(group, *(f"10.0.{i}.0/24" for i in range(59)))
    ingress(group, *(f"2001:db8:{i:x}::/48" for i in range(59)))
    ingress(group, source_group=other)  # the 60th IPv4 and the 60th IPv6 rule
    with refused("RulesPerSecurityGroupLimitExceeded"):
        ingress(group, "10.1.0.0/24")
    with refused("RulesPerSecurityGroupLimitExceeded"):
        ingress(group, "2001:db9::/32")


def test_outbound_rules_are_counted_apart_from_inbound(aws):
    # rule ec2.rules-per-group
    ec2 = client("ec2")
    group = security_group("egress")
    ingress(group, *(f"10.0.{i}.0/24" for i in range(60)))
    # the default outbound rule (0.0.0.0/0) is one of the 60 outbound IPv4 rules
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": f"10.2.{i}.0/24"} for i in range(59)],
    }
    ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[permission])
    permission["IpRanges"] = [{"CidrIp": "10.3.0.0/24"}]
    with refused("RulesPerSecurityGroupLimitExceeded"):
        ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[permission])


def test_an_ecs_task_network_interface_takes_five_security_groups(aws):
    # rule ec2.groups-per-interface
    ecs = client("ecs")
    ecs.create_cluster(clusterName="net")
    ecs.register_task_definition(
        family="net",
        networkMode="awsvpc",
        containerDefinitions=[{"name": "app", "image": "nginx", "memory": 512}],
    )
    network = {
        "awsvpcConfiguration": {
            "subnets": sorted(default_subnets().values())[:1],
            "securityGroups": [security_group(f"t{i}") for i in range(6)],
        }
    }
    with refused("InvalidParameterException", "5"):
        ecs.create_service(
            cluster="net",
            serviceName="net",
            taskDefinition="net",
            desiredCount=1,
            networkConfiguration=network,
        )


# ------------------------------------------------------------------ IAM and ECS sizes
def test_server_certificates_are_named_without_their_path_prefix(aws):
    # rule iam.server-certificate-name
    iam = client("iam")
    with refused("ValidationError", "[\\w+=,.@-]+"):
        iam.get_server_certificate(ServerCertificateName="server-certificate/web")
    with refused("ValidationError"):
        iam.get_server_certificate(ServerCertificateName="x" * 129)
    with refused("NoSuchEntity"):
        iam.get_server_certificate(ServerCertificateName="web")


def test_a_task_definition_over_64_kib_is_refused(aws):
    # rule ecs.task-definition-size
    ecs = client("ecs")
    environment = [{"name": f"V{i}", "value": "x" * 1000} for i in range(70)]
    container = {"name": "app", "image": "nginx", "memory": 512, "environment": environment}
    with refused("ClientException", "Max allowed length is '65536' bytes"):
        ecs.register_task_definition(family="big", containerDefinitions=[container])
    container["environment"] = environment[:60]
    ecs.register_task_definition(family="big", containerDefinitions=[container])


def test_moto_internals_may_set_aws_tags(aws):
    # rule tags.cloudwatch-logs: CloudFormation tags what it creates with aws:cloudformation:*
    cloudformation = client("cloudformation")
    template = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}
    cloudformation.create_stack(StackName="tagged", TemplateBody=json.dumps(template))
    stack = cloudformation.describe_stacks(StackName="tagged")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


# ------------------------------------------------------------------ STS web identity
def test_a_web_identity_assumes_a_role_only_as_its_trust_policy_allows(aws):
    # rule sts.web-identity-trust
    iam, sts = client("iam"), client("sts")
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB_OIDC}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC}:sub": "repo:octo/app:pull_request",
                    }
                },
            }
        ]
    }
    role = iam.create_role(RoleName="preview", AssumeRolePolicyDocument=json.dumps(trust))
    arn = role["Role"]["Arn"]

    def assume(token: str) -> dict:
        return sts.assume_role_with_web_identity(
            RoleArn=arn, RoleSessionName="ci", WebIdentityToken=token
        )

    # A pull request of the repository gets credentials
    assert assume(github_token(sub="repo:octo/app:pull_request"))["Credentials"]["AccessKeyId"]
    # Another repository, a push, a deployment environment: refused
    for sub in ("repo:octo/other:pull_request", "repo:octo/app:ref:refs/heads/main"):
        with refused("AccessDenied", "sts:AssumeRoleWithWebIdentity"):
            assume(github_token(sub=sub))
    # A token for another audience, or from an issuer the account has no provider for
    with refused("InvalidIdentityToken", "Incorrect token audience"):
        assume(github_token(sub="repo:octo/app:pull_request", aud="https://github.com/octo"))
    with refused("InvalidIdentityToken", "No OpenIDConnect provider"):
        assume(github_token(sub="repo:octo/app:pull_request", iss="https://gitlab.com"))
    with refused("InvalidIdentityToken", "not a JWT"):
        assume("not-a-token")


# ------------------------------------------------------------------ ELBv2 authentication
OIDC_CONFIG = {
    "Issuer": "https://idp.example.com",
    "AuthorizationEndpoint": "https://idp.example.com/authorize",
    "TokenEndpoint": "https://idp.example.com/token",
    "UserInfoEndpoint": "https://idp.example.com/userinfo",
    "ClientId": "client",
    "ClientSecret": "s3cret",
}
COGNITO_CONFIG = {
    "UserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Abc",
    "UserPoolClientId": "client",
    "UserPoolDomain": "previews",
}


def authenticated(group: str, config: dict | None = None, order: int = 1) -> list[dict]:
    authenticate = {"Type": "authenticate-oidc", "Order": order}
    authenticate["AuthenticateOidcConfig"] = OIDC_CONFIG if config is None else config
    return [authenticate, {**forward(group)[0], "Order": 2}]


def https_listener(alb: dict[str, str], actions: list[dict], port: int = 443) -> str:
    certificate = client("acm").request_certificate(DomainName="auth.example.com")
    return client("elbv2").create_listener(
        LoadBalancerArn=alb["lb"],
        Protocol="HTTPS",
        Port=port,
        Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
        DefaultActions=actions,
    )["Listeners"][0]["ListenerArn"]


def test_authenticate_actions_only_on_https_listeners_never_on_http_or_an_nlb(alb):
    # rule elbv2.authenticate-https-only
    elbv2 = client("elbv2")
    with refused("InvalidLoadBalancerAction", "HTTPS", "HTTP"):
        elbv2.create_listener(
            LoadBalancerArn=alb["lb"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=authenticated(alb["tg"]),
        )
    plain = elbv2.create_listener(
        LoadBalancerArn=alb["lb"], Protocol="HTTP", Port=80, DefaultActions=forward(alb["tg"])
    )["Listeners"][0]["ListenerArn"]
    with refused("InvalidLoadBalancerAction", "HTTPS"):
        elbv2.create_rule(
            ListenerArn=plain, Priority=1, Conditions=path("/a"), Actions=authenticated(alb["tg"])
        )
    with refused("InvalidLoadBalancerAction", "HTTPS"):
        elbv2.modify_listener(ListenerArn=plain, DefaultActions=authenticated(alb["tg"]))
    nlb = elbv2.create_load_balancer(
        Name="auth-nlb", Type="network", Subnets=sorted(default_subnets().values())[:1]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tcp = elbv2.create_target_group(Name="tcp", Protocol="TCP", Port=80, VpcId=alb["vpc"])
    tcp_group = tcp["TargetGroups"][0]["TargetGroupArn"]
    with refused("InvalidLoadBalancerAction", "TCP"):
        elbv2.create_listener(
            LoadBalancerArn=nlb, Protocol="TCP", Port=80, DefaultActions=authenticated(tcp_group)
        )
    # On HTTPS, both kinds are accepted, before the forward
    https_listener(alb, authenticated(alb["tg"]))
    cognito = [
        {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": COGNITO_CONFIG},
        {**forward(alb["tg"])[0], "Order": 2},
    ]
    https_listener(alb, cognito, port=8443)


def test_an_oidc_listener_without_its_client_secret_is_refused(alb):
    # rule elbv2.authenticate-config (the one member botocore's model leaves optional)
    incomplete = {key: value for key, value in OIDC_CONFIG.items() if key != "ClientSecret"}
    with refused("InvalidLoadBalancerAction", "client secret"):
        https_listener(alb, authenticated(alb["tg"], incomplete))


@pytest.mark.parametrize(
    ("kind", "config", "member"),
    [("oidc", OIDC_CONFIG, member) for member in sorted(OIDC_CONFIG) if member != "ClientSecret"]
    + [("cognito", COGNITO_CONFIG, member) for member in sorted(COGNITO_CONFIG)],
)
def test_an_authenticate_action_missing_a_required_member_is_refused(kind, config, member):
    # rule elbv2.authenticate-config, on the request as moto receives it (boto3 checks these
    # members itself; another client need not)
    key = "AuthenticateOidcConfig" if kind == "oidc" else "AuthenticateCognitoConfig"
    incomplete = {name: value for name, value in config.items() if name != member}
    actions = [
        {"Type": f"authenticate-{kind}", "Order": 1, key: incomplete},
        {"Type": "forward", "TargetGroupArn": "arn:tg", "Order": 2},
    ]
    with pytest.raises(Refusal) as raised:
        quotas.check_actions("HTTPS", actions, creating=True)
    assert raised.value.code == "ValidationError"
    assert member in raised.value.message


def test_a_client_secret_with_use_existing_client_secret_is_refused_and_modify_may_keep_it(alb):
    # rule elbv2.authenticate-config
    both = {**OIDC_CONFIG, "UseExistingClientSecret": True}
    with refused("InvalidLoadBalancerAction", "UseExistingClientSecret"):
        https_listener(alb, authenticated(alb["tg"], both))
    listener = https_listener(alb, authenticated(alb["tg"]))
    kept = {key: value for key, value in both.items() if key != "ClientSecret"}
    client("elbv2").modify_listener(
        ListenerArn=listener, DefaultActions=authenticated(alb["tg"], kept)
    )


def test_an_authenticate_action_must_come_before_the_one_final_forward(alb):
    # rule elbv2.action-order
    after = authenticated(alb["tg"], order=3)
    with refused("InvalidLoadBalancerAction", "last"):
        https_listener(alb, after)
    unordered = [
        {key: value for key, value in action.items() if key != "Order"}
        for action in authenticated(alb["tg"])
    ]
    with refused("ValidationError", "Order"):
        https_listener(alb, unordered)
    alone = authenticated(alb["tg"])[:1]
    with refused("InvalidLoadBalancerAction", "forward"):
        https_listener(alb, alone)


def test_a_listener_naming_an_acm_certificate_that_does_not_exist_is_refused(alb, tmp_path):
    # rule elbv2.certificate-exists (moto registers any ARN it is given)
    from embedded_aws.standin import _self_signed_certificate

    elbv2 = client("elbv2")
    missing = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-00000000dead"
    https = {"LoadBalancerArn": alb["lb"], "Protocol": "HTTPS", "Port": 443}
    with refused("CertificateNotFound", missing):
        elbv2.create_listener(
            **https, Certificates=[{"CertificateArn": missing}], DefaultActions=forward(alb["tg"])
        )
    cert, key = _self_signed_certificate(tmp_path)
    existing = client("acm").import_certificate(
        Certificate=cert.read_bytes(), PrivateKey=key.read_bytes()
    )["CertificateArn"]
    listener = elbv2.create_listener(
        **https, Certificates=[{"CertificateArn": existing}], DefaultActions=forward(alb["tg"])
    )["Listeners"][0]["ListenerArn"]
    with refused("CertificateNotFound"):
        elbv2.modify_listener(ListenerArn=listener, Certificates=[{"CertificateArn": missing}])

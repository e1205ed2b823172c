"""Quotas and request rules of ELBv2, EC2, IAM and ECS that moto does not check, or checks with
other figures (rules.py: elbv2.*, ec2.*, iam.*, ecs.*)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from embedded_aws.patches import Patches
from embedded_aws.strict import rules
from embedded_aws.strict.guards import Check, guard, refuse, validation_message

_SERVER_CERTIFICATE_NAME = re.compile(rules.SERVER_CERTIFICATE_NAME)


# ------------------------------------------------------------------ ELBv2
def _subnet_zones(backend: Any, subnet_ids: Iterable[str]) -> list[str]:
    zones = []
    for subnet_id in subnet_ids:
        try:
            zones.append(backend.ec2_backend.get_subnet(subnet_id).availability_zone)
        except Exception:
            continue  # moto answers SubnetNotFound itself
    return zones


def _check_placement(backend: Any, lb_type: str | None, subnets: list[str]) -> None:
    zones = _subnet_zones(backend, subnets)
    if len(zones) != len(set(zones)):
        refuse(
            "InvalidConfigurationRequest",
            "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
        )
    if (lb_type or "application") == "application" and len(set(zones)) < 2:
        refuse(
            "ValidationError",
            "At least two subnets in two different Availability Zones must be specified",
        )


def _subnets(arguments: dict[str, Any], key: str) -> list[str]:
    mapped = [item["SubnetId"] for item in arguments.get("subnet_mappings") or []]
    return [*(arguments.get(key) or []), *mapped]


def _check_security_group_count(groups: list[str] | None, code: str, member: str) -> None:
    if len(groups or []) > rules.SECURITY_GROUPS_PER_INTERFACE:
        refuse(
            code,
            validation_message(
                groups,
                member,
                f"Member must have length less than or equal to "
                f"{rules.SECURITY_GROUPS_PER_INTERFACE} (security groups per network interface)",
            ),
        )


def _check_create_load_balancer(backend: Any, arguments: dict[str, Any]) -> None:
    _check_placement(backend, arguments["loadbalancer_type"], _subnets(arguments, "subnet_ids"))
    _check_security_group_count(arguments["security_groups"], "ValidationError", "securityGroups")


def _load_balancer(backend: Any, arn: str) -> Any:
    return backend.load_balancers.get(arn)


def _check_set_subnets(backend: Any, arguments: dict[str, Any]) -> None:
    lb = _load_balancer(backend, arguments["arn"])
    if lb is not None:
        _check_placement(backend, lb.type, _subnets(arguments, "subnets"))


def _check_set_security_groups(backend: Any, arguments: dict[str, Any]) -> None:
    lb = _load_balancer(backend, arguments["arn"])
    if lb is not None and lb.type == "network" and not lb.security_groups:
        refuse(
            "InvalidConfigurationRequest",
            "You cannot set security groups on a Network Load Balancer which was created "
            "without any security groups.",
        )
    _check_security_group_count(arguments["sec_groups"], "ValidationError", "securityGroups")


def forwarded_target_groups(actions: Iterable[Any]) -> set[str]:
    """Every target group the actions forward to (plain or ForwardConfig form)."""
    found = set()
    for action in actions:
        data = getattr(action, "data", action) or {}
        if data.get("TargetGroupArn"):
            found.add(str(data["TargetGroupArn"]))
        for group in (data.get("ForwardConfig") or {}).get("TargetGroups") or []:
            found.add(str(group["TargetGroupArn"]))
    return found


def _target_groups_of(lb: Any, replaced: str | None = None) -> set[str]:
    """The unique target groups `lb` forwards to, leaving out the listener or rule `replaced`."""
    found: set[str] = set()
    for listener in lb.listeners.values():
        if listener.arn != replaced:
            found |= forwarded_target_groups(listener.default_actions)
        for rule in listener._non_default_rules.values():
            if rule.arn != replaced:
                found |= forwarded_target_groups(rule.actions)
    return found


def _check_target_groups(lb: Any, actions: Iterable[Any], replaced: str | None = None) -> None:
    if lb is None or lb.type != "application":
        return
    total = _target_groups_of(lb, replaced) | forwarded_target_groups(actions)
    if len(total) > rules.TARGET_GROUPS_PER_ALB:
        refuse(
            "TooManyUniqueTargetGroupsPerLoadBalancer",
            f"You've reached the limit on the number of unique target groups per load balancer "
            f"across all listeners ({rules.TARGET_GROUPS_PER_ALB})",
        )


def _listener(backend: Any, arn: str) -> Any:
    for lb in backend.load_balancers.values():
        if arn in lb.listeners:
            return lb, lb.listeners[arn]
    return None, None


#: ELBv2 (API reference, Action and AuthenticateOidcActionConfig / AuthenticateCognitoActionConfig):
#: the members an authenticate action's configuration must carry.
_AUTHENTICATE: dict[str, tuple[str, tuple[str, ...]]] = {
    "authenticate-oidc": (
        "AuthenticateOidcConfig",
        ("Issuer", "AuthorizationEndpoint", "TokenEndpoint", "UserInfoEndpoint", "ClientId"),
    ),
    "authenticate-cognito": (
        "AuthenticateCognitoConfig",
        ("UserPoolArn", "UserPoolClientId", "UserPoolDomain"),
    ),
}
#: The actions that end a listener's or rule's list (exactly one, performed last).
_FINAL_ACTIONS = ("forward", "redirect", "fixed-response")


def _action_data(actions: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(getattr(action, "data", action) or {}) for action in actions]


def _check_authenticate_config(data: dict[str, Any], creating: bool) -> None:
    key, required = _AUTHENTICATE[str(data["Type"])]
    config = data.get(key) or {}
    missing = [member for member in required if not config.get(member)]
    if missing:
        refuse(
            "ValidationError",
            validation_message(
                None, f"{key}.{missing[0]}", f"Member must not be null ({data['Type']})"
            ),
        )
    if data["Type"] != "authenticate-oidc":
        return
    existing = str(config.get("UseExistingClientSecret", "")).lower() == "true"
    if existing and config.get("ClientSecret"):
        refuse(
            "InvalidLoadBalancerAction",
            "You cannot both specify a client secret and set UseExistingClientSecret to true",
        )
    if not config.get("ClientSecret") and (creating or not existing):
        refuse("InvalidLoadBalancerAction", "A client secret must be specified")


def check_actions(protocol: str | None, actions: Iterable[Any], creating: bool) -> None:
    """ELBv2's rules for a listener's or rule's actions with authentication: only on an HTTPS
    listener (never an NLB's: its listeners take only forward), each configuration complete,
    the authenticate actions before the one final action (by Order, which several actions
    must each give)."""
    data = _action_data(actions)
    authenticate = [item for item in data if item.get("Type") in _AUTHENTICATE]
    if not authenticate:
        return
    if protocol != "HTTPS":
        refuse(
            "InvalidLoadBalancerAction",
            f"Authenticate actions are supported only on HTTPS listeners of an Application "
            f"Load Balancer; this listener's protocol is {protocol}",
        )
    for item in authenticate:
        _check_authenticate_config(item, creating)
    if len(data) > 1 and any(item.get("Order") in (None, "") for item in data):
        refuse("ValidationError", "An Order must be specified for each of several actions")
    ordered = sorted(data, key=lambda item: int(item.get("Order") or 0))
    finals = [item for item in data if item.get("Type") in _FINAL_ACTIONS]
    if len(finals) != 1 or ordered[-1].get("Type") not in _FINAL_ACTIONS:
        refuse(
            "InvalidLoadBalancerAction",
            "An authenticate action must come before exactly one forward, redirect or "
            "fixed-response action, which must be the last action to be performed",
        )


def _check_create_listener(backend: Any, arguments: dict[str, Any]) -> None:
    lb = _load_balancer(backend, arguments["load_balancer_arn"])
    if lb is None:
        return
    check_actions(arguments["protocol"], arguments["actions"] or [], creating=True)
    # moto looks the port up among the listeners' ARNs, so it never finds one in use.
    if any(int(item.port) == int(arguments["port"]) for item in lb.listeners.values()):
        refuse("DuplicateListener", "A listener with the specified port already exists")
    if len(lb.listeners) >= rules.LISTENERS_PER_LOAD_BALANCER:
        refuse(
            "TooManyListeners",
            "You've reached the limit on the number of listeners per load balancer",
        )
    _check_certificates(backend, [arguments.get("certificate")])
    _check_target_groups(lb, arguments["actions"] or [])


def _check_certificates(backend: Any, certificates: Iterable[Any]) -> None:
    """An ACM certificate a listener names must exist (moto would register any ARN)."""
    from moto.acm.models import acm_backends

    for certificate in certificates:
        arn = certificate.get("CertificateArn") if isinstance(certificate, dict) else certificate
        if not arn or ":acm:" not in str(arn):
            continue
        region = str(arn).split(":")[3]
        if arn not in acm_backends[backend.account_id][region]._certificates:
            refuse("CertificateNotFound", f"Certificate '{arn}' not found")


def _check_modify_listener(backend: Any, arguments: dict[str, Any]) -> None:
    _check_certificates(backend, arguments.get("certificates") or [])
    lb, listener = _listener(backend, arguments["arn"])
    if listener is not None and arguments.get("actions"):
        protocol = arguments.get("protocol") or listener.protocol
        check_actions(protocol, arguments["actions"], creating=False)
    if arguments.get("actions"):
        _check_target_groups(lb, arguments["actions"], replaced=arguments["arn"])


def _condition_values(conditions: Iterable[dict[str, Any]]) -> int:
    count = 0
    for condition in conditions or []:
        count += len(condition.get("Values") or [])
        for key, config in condition.items():
            if key.endswith("Config") and isinstance(config, dict):
                count += len(config.get("Values") or [])
    return count


def _check_conditions(conditions: Iterable[dict[str, Any]]) -> None:
    values = _condition_values(conditions)
    if values > rules.CONDITION_VALUES_PER_RULE:
        refuse(
            "ValidationError",
            f"A rule can only have '{rules.CONDITION_VALUES_PER_RULE}' condition values "
            f"(this one has {values})",
        )


def _check_create_rule(backend: Any, arguments: dict[str, Any]) -> None:
    lb, listener = _listener(backend, arguments["listener_arn"])
    if listener is None:
        return
    if len(listener._non_default_rules) >= rules.RULES_PER_LISTENER:
        refuse("TooManyRules", "You've reached the limit on the number of rules per load balancer")
    _check_conditions(arguments["conditions"])
    check_actions(listener.protocol, arguments["actions"] or [], creating=True)
    _check_target_groups(lb, arguments["actions"] or [])


def _check_modify_rule(backend: Any, arguments: dict[str, Any]) -> None:
    _check_conditions(arguments.get("conditions") or [])
    rule_arn = arguments["rule_arn"]
    for lb in backend.load_balancers.values():
        for listener in lb.listeners.values():
            if rule_arn in listener._non_default_rules and arguments.get("actions"):
                check_actions(listener.protocol, arguments["actions"], creating=False)
                _check_target_groups(lb, arguments["actions"], replaced=rule_arn)


def _check_add_certificates(backend: Any, arguments: dict[str, Any]) -> None:
    lb, _ = _listener(backend, arguments["arn"])
    if lb is None:
        return
    extra = sum(
        len(listener.certificates) - (1 if listener.certificate else 0)
        for listener in lb.listeners.values()
    )
    if extra + len(arguments["certificates"] or []) > rules.CERTIFICATES_PER_LOAD_BALANCER:
        refuse(
            "TooManyCertificates",
            "You've reached the limit on the number of certificates per load balancer",
        )


# ------------------------------------------------------------------ EC2
def _rule_families(rule_objects: Iterable[Any]) -> tuple[int, int]:
    """(IPv4, IPv6) rules as AWS counts them: one per CIDR; a group reference counts in both."""
    ipv4 = ipv6 = 0
    for rule in rule_objects:
        if rule.source_group or rule.prefix_list_id:
            ipv4, ipv6 = ipv4 + 1, ipv6 + 1
        elif "CidrIpv6" in (rule.ip_range or {}):
            ipv6 += 1
        else:
            ipv4 += 1
    return ipv4, ipv6


def _verify_rule_count(
    backend: Any,
    group: Any,
    current_rule_nb: int,
    ip_ranges: list[Any],
    source_groups: list[dict[str, str]] | None = None,
    egress: bool = False,
) -> None:
    ipv4, ipv6 = _rule_families(group.egress_rules if egress else group.ingress_rules)
    for cidr in ip_ranges or []:
        if "CidrIpv6" in cidr if isinstance(cidr, dict) else ":" in str(cidr):
            ipv6 += 1
        else:
            ipv4 += 1
    referenced = len(source_groups or [])
    if max(ipv4, ipv6) + referenced > rules.RULES_PER_SECURITY_GROUP:
        refuse(
            "RulesPerSecurityGroupLimitExceeded",
            "The maximum number of rules per security group has been reached.",
        )


# ------------------------------------------------------------------ IAM
def _server_certificate_name_in(parameter: str) -> Check:
    """The check of the server certificate name passed as `parameter`."""

    def check(backend: Any, arguments: dict[str, Any]) -> None:
        _check_server_certificate_name(arguments[parameter])

    return check


def _check_server_certificate_name(name: str) -> None:
    if not 1 <= len(name) <= 128 or not _SERVER_CERTIFICATE_NAME.fullmatch(name):
        refuse(
            "ValidationError",
            validation_message(
                name,
                "serverCertificateName",
                f"Member must satisfy regular expression pattern: {rules.SERVER_CERTIFICATE_NAME}",
            ),
        )


# ------------------------------------------------------------------ ECS
def _awsvpc_groups(configuration: dict[str, Any] | None) -> list[str]:
    return list(((configuration or {}).get("awsvpcConfiguration") or {}).get("securityGroups", []))


def _check_task_definition(backend: Any, arguments: dict[str, Any]) -> None:
    definition = {key: value for key, value in arguments.items() if key != "self" and value}
    size = len(json.dumps(definition, separators=(",", ":"), default=str))
    if size > rules.TASK_DEFINITION_BYTES:
        limit = rules.TASK_DEFINITION_BYTES
        refuse(
            "ClientException", f"Actual length: '{size}'. Max allowed length is '{limit}' bytes."
        )


def _check_ecs_network(parameter: str) -> Any:
    def check(backend: Any, arguments: dict[str, Any]) -> None:
        source = arguments.get(parameter)
        if parameter == "service_properties":
            source = (source or {}).get("network_configuration")
        _check_security_group_count(
            _awsvpc_groups(source),
            "InvalidParameterException",
            "networkConfiguration.awsvpcConfiguration.securityGroups",
        )

    return check


def install(patches: Patches) -> None:
    from moto.ec2.models import EC2Backend
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.elbv2.models import ELBv2Backend
    from moto.iam.models import IAMBackend

    guard(patches, ELBv2Backend, "create_load_balancer", _check_create_load_balancer)
    guard(patches, ELBv2Backend, "set_subnets", _check_set_subnets)
    guard(patches, ELBv2Backend, "set_security_groups", _check_set_security_groups)
    guard(patches, ELBv2Backend, "create_listener", _check_create_listener)
    guard(patches, ELBv2Backend, "modify_listener", _check_modify_listener)
    guard(patches, ELBv2Backend, "create_rule", _check_create_rule)
    guard(patches, ELBv2Backend, "modify_rule", _check_modify_rule)
    guard(patches, ELBv2Backend, "add_listener_certificates", _check_add_certificates)

    patches.set(EC2Backend, "_verify_group_will_respect_rule_count_limit", _verify_rule_count)

    for name, parameter in (
        ("get_server_certificate", "name"),
        ("delete_server_certificate", "name"),
        ("upload_server_certificate", "cert_name"),
    ):
        guard(
            patches,
            IAMBackend,
            name,
            _server_certificate_name_in(parameter),
        )

    guard(patches, EC2ContainerServiceBackend, "register_task_definition", _check_task_definition)
    for name, parameter in (
        ("create_service", "network_configuration"),
        ("update_service", "service_properties"),
        ("run_task", "networking_configuration"),
    ):
        guard(patches, EC2ContainerServiceBackend, name, _check_ecs_network(parameter))

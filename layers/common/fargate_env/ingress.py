"""Who may reach a load balancer, and what that costs in security-group rules.

One place for the rules the spec validation, the security groups and the endpoint check must
agree on:
- a load balancer answers the verify step's own HTTP GET (a Lambda outside any VPC, on an AWS
  public address nobody can list) only when it is internet-facing and open to every IPv4
  address; otherwise only a caller inside the VPC can prove the page answers;
- EC2 counts inbound rules per security group, IPv4 and IPv6 separately, and a rule naming a
  security group counts once in each (Amazon VPC quotas, "Inbound or outbound rules per security
  group": 60 by default, adjustable).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

from fargate_env import settings

#: The only CIDR that admits an IPv4 caller whose address is unknown (the Lambda's egress).
WORLD_IPV4: Final = "0.0.0.0/0"
#: AWS's default quota of inbound rules per security group (per IP version).
DEFAULT_RULES_PER_GROUP: Final = 60
#: The deployment's quota when the account's was raised (parameter SecurityGroupRuleQuota).
RULES_QUOTA_ENV: Final = "SECURITY_GROUP_RULE_QUOTA"


def rules_quota() -> int:
    """Inbound rules a security group may hold in this deployment's account."""
    raw = settings.get(RULES_QUOTA_ENV, "").strip()
    return int(raw) if raw else DEFAULT_RULES_PER_GROUP


def reachable_from_outside(scheme: str, cidrs: Iterable[str]) -> bool:
    """Whether a caller outside the VPC with an unknown IPv4 address can reach the listeners."""
    return scheme == "internet-facing" and WORLD_IPV4 in set(cidrs)


def load_balancer_rules(
    ports: Iterable[int], cidrs: Iterable[str], from_probe: bool
) -> dict[str, int]:
    """Inbound rules of a load balancer's group, per IP version: one per (listener port, CIDR),
    plus, when the in-VPC endpoint check must reach it, one per port naming the probe's group."""
    port_count = len(set(ports))
    cidr_list = list(cidrs)
    ipv6 = sum(1 for cidr in cidr_list if ipaddress.ip_network(cidr).version == 6)
    extra = port_count if from_probe else 0
    return {
        "IPv4": port_count * (len(cidr_list) - ipv6) + extra,
        "IPv6": port_count * ipv6 + extra,
    }


#: The optional in-VPC endpoint probe of the deployment (template parameters ProbeVpcId and
#: ProbeSubnetIds): its function, its security group and the VPC it runs in.
PROBE_FUNCTION_ENV: Final = "PROBE_FUNCTION_NAME"
PROBE_SECURITY_GROUP_ENV: Final = "PROBE_SECURITY_GROUP_ID"
PROBE_VPC_ENV: Final = "PROBE_VPC_ID"


def _probe_in(vpc_id: str, setting: str) -> str | None:
    value = settings.get(setting, "").strip()
    return value if value and settings.get(PROBE_VPC_ENV, "").strip() == vpc_id else None


def probe_security_group(vpc_id: str) -> str | None:
    """The probe's security group when the deployment has a probe in `vpc_id` (a rule may name
    only a group of its own VPC)."""
    return _probe_in(vpc_id, PROBE_SECURITY_GROUP_ENV)


def probe_function(vpc_id: str) -> str | None:
    """The probe function when the deployment has one in `vpc_id`."""
    return _probe_in(vpc_id, PROBE_FUNCTION_ENV)

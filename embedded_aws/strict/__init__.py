"""The embedded AWS refuses what AWS refuses.

moto accepts much that AWS rejects; each rule here (the table in rules.py, rendered in
docs/strict-rules.md) makes the embedded AWS answer as AWS does, in AWS's error shape, so the
application's handling of that answer is tested offline. The rules are on in every embedded AWS
(the demo, `make emulator`, the bench, the flow tests); the unit tests' plain moto account gets
every rule that needs neither the simulated clock nor the Lambda runner.

- tags.py: tag counts, lengths, characters and the reserved `aws:` prefix, per service
- quotas.py: ELBv2, EC2, IAM and ECS request rules and quotas
- web_identity.py: STS AssumeRoleWithWebIdentity: the OIDC provider, the audience, the trust
- stepfunctions.py: payload sizes and the 25,000-event history, in moto's interpreter
- lambdas.py: Timeout, MemorySize and payload limits of an invocation (used by lambdas.py's
  LambdaRunner)
- rates.py: API token buckets on the simulated clock (used by the emulator's API-call hook)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from embedded_aws.patches import Patches
from embedded_aws.strict import guards, quotas, tags, web_identity
from embedded_aws.strict import stepfunctions as stepfunctions_rules
from embedded_aws.strict.rates import RateLimits
from embedded_aws.strict.rules import RULES, Rule


class Strict:
    """The rules of one embedded AWS: its history budget and its API token buckets."""

    def __init__(self) -> None:
        self.history = stepfunctions_rules.HistoryLimit()
        self.rates = RateLimits()

    def install(self, patches: Patches) -> None:
        """Patch moto; `patches.undo()` takes every rule off again."""
        guards.track_requests(patches)
        tags.install(patches)
        quotas.install(patches)
        web_identity.install(patches)
        stepfunctions_rules.install(patches, self.history)


@contextlib.contextmanager
def enforced() -> Iterator[Strict]:
    """The rules on plain moto (no simulated clock, no Lambda runner), for the block's length."""
    patches = Patches()
    strict = Strict()
    strict.install(patches)
    try:
        yield strict
    finally:
        patches.undo()


__all__ = ["RULES", "Rule", "Strict", "enforced"]

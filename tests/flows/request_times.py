"""Request times for the flows: moments on the emulator's clock, as requested_at gives them."""

from __future__ import annotations

from embedded_aws.emulator import EmbeddedAWS
from fargate_env import ordering


def at(embedded: EmbeddedAWS, seconds: float = 0.0) -> str:
    """The time `seconds` after the calling thread's simulated now, as a request carries it."""
    return ordering.now_iso(embedded.clock.wall() + seconds)

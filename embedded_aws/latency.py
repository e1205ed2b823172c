"""The latency model: how long AWS takes, as data (latency_model.json), each figure sourced."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).with_name("latency_model.json")


@dataclass(frozen=True)
class LatencyModel:
    alb_active_after: float
    nlb_active_after: float
    lb_eni_release_after_delete: float
    health_checks_until_healthy: int
    nlb_target_registration: float
    task_provisioning: float
    task_start: float
    task_exit_after_sigterm: float
    task_deprovisioning: float
    task_eni_release_after_stop: float
    task_replacement_after_failure: float
    api_call: float
    lambda_invoke: float
    lambda_cold_start: float
    state_transition: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LatencyModel:
        data = json.loads(path.read_text())

        def value(section: str, key: str) -> Any:
            return data[section][key]["value"]

        return cls(
            alb_active_after=value("load_balancer", "application_active_after"),
            nlb_active_after=value("load_balancer", "network_active_after"),
            lb_eni_release_after_delete=value("load_balancer", "eni_release_after_delete"),
            health_checks_until_healthy=value("targets", "health_checks_until_healthy"),
            nlb_target_registration=value("targets", "network_registration"),
            task_provisioning=value("task", "provisioning"),
            task_start=value("task", "start"),
            task_exit_after_sigterm=value("task", "exit_after_sigterm"),
            task_deprovisioning=value("task", "deprovisioning"),
            task_eni_release_after_stop=value("task", "eni_release_after_stop"),
            task_replacement_after_failure=value("task", "replacement_after_failure"),
            api_call=value("control_plane", "api_call"),
            lambda_invoke=value("control_plane", "lambda_invoke"),
            lambda_cold_start=value("control_plane", "lambda_cold_start"),
            state_transition=value("control_plane", "state_transition"),
        )

    def scaled(self, factor: float) -> LatencyModel:
        """Every figure multiplied by `factor` (0 makes AWS instant)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, current in values.items():
            if name != "health_checks_until_healthy":
                values[name] = current * factor
        return LatencyModel(**values)

    def load_balancer_active_after(self, lb_type: str) -> float:
        return self.alb_active_after if lb_type == "application" else self.nlb_active_after

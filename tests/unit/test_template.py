"""What the embedded AWS takes from template.yaml: its parse, kept per file version, and the
names moto's CloudFormation gives what the stack creates."""

from __future__ import annotations

import re
from pathlib import Path

from embedded_aws import template
from embedded_aws.patches import Patches


def test_each_caller_gets_its_own_copy_of_the_parsed_template() -> None:
    first = template.load_sam_template()
    first["Resources"].clear()

    again = template.load_sam_template()

    assert again["Resources"]
    assert again == template.load_sam_template()


def test_an_edited_template_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  A: {Type: 'AWS::SNS::Topic'}\n")
    assert list(template.load_sam_template(path)["Resources"]) == ["A"]

    path.write_text("Resources:\n  Bigger: {Type: 'AWS::SNS::Topic'}\n")

    assert list(template.load_sam_template(path)["Resources"]) == ["Bigger"]


def test_stack_resources_get_the_same_cloudformation_style_names_every_deploy() -> None:
    import moto.cloudformation.parsing as parsing

    def names() -> list[str]:
        return [
            parsing.generate_resource_name("AWS::Lambda::Function", "fargate-env", "ClaimFunction"),
            parsing.generate_resource_name("AWS::Lambda::Function", "fargate-env", "OtherFunction"),
            parsing.generate_resource_name(
                "AWS::ElasticLoadBalancingV2::TargetGroup", "fargate-env", "ProbeTargetGroup"
            ),
        ]

    randomly = names()
    patches = Patches()
    template.stable_resource_names(patches.set)
    try:
        stable = names()
        assert names() == stable
    finally:
        patches.undo()

    assert names() != randomly  # moto's own names are random again
    claim, other, target_group = stable
    assert re.fullmatch(r"fargate-env-ClaimFunction-[0-9A-Z]{12}", claim)
    assert claim.rsplit("-", 1)[1] != other.rsplit("-", 1)[1]
    assert len(target_group) <= 32  # moto's ELBv2 rule still applies
    assert target_group.endswith(template.stable_suffix("fargate-env", "ProbeTargetGroup"))

"""fenv: create, follow, inspect and tear down fargate-env environments from a terminal or CI.

    fenv validate events/inputs/provision-nginx.json
    fenv up events/inputs/provision-nginx.json
    fenv status demo
    fenv down demo

Installed as a console script (`pipx install .`, or `make setup` into .venv). It finds the state
machines and the registry from the CloudFormation stack's outputs (--stack, default fargate-env),
uses the usual AWS credentials and region, and talks to any endpoint (--endpoint-url or
AWS_ENDPOINT_URL, e.g. the one `make emulator` serves). Not deployed.
"""

__version__ = "0.1.0"

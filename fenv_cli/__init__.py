"""fenv: start and follow fargate-env executions from a terminal (not deployed).

    python -m fenv_cli validate events/inputs/provision-nginx.json
    python -m fenv_cli provision events/inputs/provision-nginx.json --wait
    python -m fenv_cli status demo
    python -m fenv_cli teardown demo --wait
    python -m fenv_cli list

It finds the state machines and the registry from the CloudFormation stack's outputs (--stack,
default fargate-env), uses the usual AWS credentials and region, and talks to any endpoint
(--endpoint-url, e.g. the one `make emulator` serves).
"""

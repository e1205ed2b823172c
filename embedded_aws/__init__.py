"""The embedded AWS: fargate-env's real template, state machines and handlers, run offline.

moto plays the AWS account (control plane), its Step Functions interpreter executes the real ASL,
the real handlers run in-process for each Lambda invocation, and a small data plane plays the
part moto does not: tasks starting and stopping, targets becoming healthy, load balancers
answering on their DNS names, network interfaces released late - on a clock that can be scaled.

Not deployed: this package is the offline harness (tests, `make demo`, `make emulator`,
`make bench`). It imports the layer's package (`fargate_env`) as installed by `make setup`.
"""

"""The embedded AWS: fargate-env's real template, state machines and handlers, run offline.

moto plays the AWS account (control plane), its Step Functions interpreter executes the real ASL,
the real handlers run in-process for each Lambda invocation, and a small data plane plays the
part moto does not: tasks starting and stopping, targets becoming healthy, load balancers
answering on their DNS names, network interfaces released late - on a clock that can be scaled.

Not deployed: this package is the offline harness (tests, `make demo`, `make emulator`,
`make bench`).
"""

import sys as _sys
from pathlib import Path as _Path

# Like Lambda's /opt/python, the shared layer's package is importable wherever the emulator runs.
_LAYER = str(_Path(__file__).resolve().parent.parent / "layers" / "common")
if _LAYER not in _sys.path:
    _sys.path.insert(0, _LAYER)

"""fargate-env: the library every step function shares (deployed as the `common` layer).

One module per resource kind (create / describe / delete logic), plus the spec model, naming and
tags, the AWS clients, the error contract the state machines match on, and observability.
"""

__version__ = "0.1.0"

"""The state machines, each stated once in Python: provision.py and teardown.py, written with
the pieces of asl.py, their time bounds from fargate_env.bounds (checked by bounds_check.py).

    python -m tools.statemachines           # write statemachine/*.asl.json (make asl)
    python -m tools.statemachines --check   # fail when they differ from what would be written

The ASL files stay committed (SAM deploys them, Workflow Studio shows them): edit the Python,
run `make asl`, commit both."""

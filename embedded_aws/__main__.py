"""python -m embedded_aws {demo,serve,bench,schema}"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("demo", [])
    if command == "demo":
        from embedded_aws import demo

        return demo.run(rest)
    if command == "serve":
        from embedded_aws import server

        return server.run(rest)
    if command == "bench":
        from embedded_aws import bench

        return bench.run(rest)
    if command == "schema":
        from fargate_env import spec

        print(json.dumps(spec.json_schema(), indent=2, sort_keys=True))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

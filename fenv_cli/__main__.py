"""python -m fenv_cli: the same as the `fenv` command."""

import sys

from fenv_cli.app import main

sys.exit(main())

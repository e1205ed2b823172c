import sys

from tools.statemachines.build import main

sys.exit(main())

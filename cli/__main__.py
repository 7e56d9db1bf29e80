import sys

from flowphase.cli import main

sys.exit(main())

import sys

from tmsrules.cli import main

sys.exit(main())

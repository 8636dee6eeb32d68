"""``python -m semopt ...`` is the ``semopt`` command (same sub-commands, same exit codes)."""

import sys

from semopt.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m bayesgraph``: the command line (:mod:`bayesgraph.cli`).

Examples
--------
>>> import subprocess, sys
>>> subprocess.run([sys.executable, "-m", "bayesgraph", "--version"], capture_output=True,
...                text=True).stdout.startswith("bayesgraph ")
True
"""

import sys

from bayesgraph.cli import main

if __name__ == "__main__":
    sys.exit(main())

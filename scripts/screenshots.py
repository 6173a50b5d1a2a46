#!/usr/bin/env python3
"""Screenshots of the everyday screens at 1366x900 and 390x844 into var/screenshots/.

`make screenshots` runs this; see govsocial/screenshots.py for what it does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govsocial.screenshots import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

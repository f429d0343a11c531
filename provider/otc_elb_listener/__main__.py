"""``python -m otc_elb_listener import ...``: the same as ``otc-elb import ...``."""

from __future__ import annotations

import sys

from .importer import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m fake_elb serve``: same as the ``fake-elb`` console script."""

import sys

from .transport.cli import main

sys.exit(main())

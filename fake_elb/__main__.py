"""``python -m fake_elb serve``: same as the ``fake-elb`` console script."""

import sys

from .cli import main

sys.exit(main())

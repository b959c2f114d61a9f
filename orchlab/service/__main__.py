"""`python -m orchlab.service --history FILE`: serve the apps' calls for one history file."""

import sys

from orchlab.service.server import main

sys.exit(main())

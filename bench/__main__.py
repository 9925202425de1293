"""`make bench` (`python -m bench`): the SFU forwarding benchmark; `--help` for its options."""
import sys

from bench.forwarding import main

sys.exit(main())

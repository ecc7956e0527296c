"""`python -m genesys_emulator`: the same as the `genesys-emulator` command."""

import sys

from genesys_emulator.cli import main

sys.exit(main())

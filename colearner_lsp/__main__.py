"""``python -m colearner_lsp`` is the ``colearner`` command."""

import sys

from .cli.main import main

sys.exit(main())

"""``python -m claude_top`` runs the same command line as the ``claude-top`` script."""

from claude_top.commands.main import main

raise SystemExit(main())

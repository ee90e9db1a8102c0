"""``python -m electrical_safety_bridge``: the bridge's command line."""

from .cli import main

raise SystemExit(main())

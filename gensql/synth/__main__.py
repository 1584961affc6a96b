"""``python -m gensql.synth``: see :mod:`gensql.synth.cli`."""

from .cli import main

raise SystemExit(main())

"""The CLI's command handlers, grouped by who runs them: ``setup`` (an instance's
identity, key and trusted peers), ``coach``, ``student``, ``reports`` (what both
read about sessions), ``upkeep`` (sync, doctor, repair) and ``tools`` (the broker,
the language server, the schemas, the demo); ``exchange`` is what they share.

``cli.main`` imports the one group of the command chosen, and nothing here
imports a group: start-up (bench/bench_cli.py, tests/cli/test_startup.py).
"""

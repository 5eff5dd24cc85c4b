"""Targets use cases: load, apply the rule, write the rows and their outbox events in one
transaction. One module per aggregate:

- :mod:`.plans` — import a plan file (create or update), list, activate, close, export;
- :mod:`.indicators` — a plan's indicators, read and changed;
- :mod:`.tasks` — a plan's tasks, read and moved through their states;
- :mod:`.reports` — progress reports, submitted and listed;
- :mod:`.rounds` — reporting rounds: a plan's settings, departments' submissions, their review and
  each round's completeness;
- :mod:`.regions` — custom regions, defined and read with the standard ones;
- :mod:`.statistics` — the statistic catalogue, and official statistics' releases imported,
  revised and read as of a day;
- :mod:`._common` — what they share: a plan and its parts as the caller may see them, their states
  and the plan event.
"""

"""Financing use cases, one module per aggregate: load, apply the rule, write the rows and their
outbox event in one transaction, and return the contract state (``zhichan/PLUMBING.md``).

- ``pledges`` — pledge registrations, their transitions, subsidies and risk compensation;
- ``transactions`` — transfers, licences and capital contributions;
- ``insurance`` — IP insurance policies;
- ``matchmaking`` — bank–enterprise matchmaking events;
- ``summary`` — the region's figures over a window;
- ``_common`` — what they share.
"""

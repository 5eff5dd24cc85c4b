"""Enforcement use cases, one module per aggregate: load, apply the domain rule, write the rows and
their outbox events in one transaction, and return the contract state (``zhichan/PLUMBING.md``).

- ``cases`` — filing, the steps of a case's lifecycle, one case and the list;
- ``campaigns`` — campaigns (专项行动) with the counts of their cases;
- ``region_policies`` — a region's own deadline rules and watch-list window, and those in force;
- ``watchlist`` — the repeat-infringer watch list (重点监管), worked out and read;
- ``statistics`` — filed, closed, on time and overdue cases (按期结案率), and the overdue report;
- ``disclosure`` — decided cases, public (行政执法信息公开);
- ``_in_force`` — the settings in force for a region on a day, from its policy and its ancestors';
- ``_common`` — what they share: the event of a change, stored dates, a list's date range.
"""

"""Alerts: what needs someone's attention, derived from the events the gateway already has — a
case or a complaint due within days or overdue, a task overdue, a pledge defaulted — each raised
once per cause as a CloudEvent of its own on the topic ``zhichan.alerts`` (and so to webhooks),
and listed by ``GET /api/alerts`` for the caller's regions and department.

- :mod:`gateway.alerts.rules`: from an event, the alerts its record calls for and the day each
  is due to be raised (pure).
- :mod:`gateway.alerts.service`: those plans kept in the transaction that applied the event (a
  later state replaces the plan; a record that was dealt with cancels what was not yet raised),
  the alerts raised on their day, listing and acknowledging.
- :mod:`gateway.alerts.scanner`: the task that raises them, daily and whenever events arrive.
"""

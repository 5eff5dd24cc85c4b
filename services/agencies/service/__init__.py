"""Agencies use cases, one module per aggregate: load, apply the rule, write the rows and their
outbox event in one transaction, and return the contract state (``zhichan/PLUMBING.md``).

- ``filings`` — agencies: filing (备案), particulars, approval, suspension, deregistration, brand level;
- ``practitioners`` — practitioners joining and leaving agencies;
- ``annual_reports`` — annual reports and their corrections;
- ``credit`` — the credit archive, the grade it gives, and the public list of grades;
- ``complaints`` — complaints, their handling deadlines (provisional ones counted again), the overdue;
- ``inspections`` — random inspection draws, their findings and their disclosure;
- ``evaluations`` — yearly performance evaluations;
- ``_common`` — what they share.
"""

"""Targets: Plans, indicators, milestones, tasks and progress reports of an IP office."""

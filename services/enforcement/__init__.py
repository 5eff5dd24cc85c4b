"""Enforcement: Administrative IP enforcement: cases with legal deadlines, campaigns, repeat infringers."""

"""Agencies: IP service agencies under filing (备案) and supervision."""

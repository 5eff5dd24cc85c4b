"""Financing: Pledges, transactions, insurance and matchmaking: the uses of IP plans count."""

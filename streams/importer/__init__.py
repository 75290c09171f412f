"""Importing real spreadsheets (rosters, payment reports, access-point lists) as events."""

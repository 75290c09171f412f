"""Seeded, pure generators of payment-cycle events and their ground truth."""

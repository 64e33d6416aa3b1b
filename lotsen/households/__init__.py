"""Households: the prospective in-movers, their members, stages and timeline."""

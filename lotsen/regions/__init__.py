"""Region 10 reference data: the ten municipalities."""

"""Privacy: legal basis and consents, disposal (gallring) and anonymisation."""

"""The public interest form: multilingual, double opt-in, spam-proof, no duplicates."""

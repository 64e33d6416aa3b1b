"""User management for administrators."""

"""Importing households from the spreadsheets guides keep today (CSV or XLSX)."""

"""The regional pipeline: dashboard, board, funder report, exports and weekly summary."""

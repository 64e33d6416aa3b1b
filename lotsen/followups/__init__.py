"""Follow-ups: tasks on households with a due date."""

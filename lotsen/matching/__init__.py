"""Housing listings, job openings (by hand, CSV, JobTech), matching and the match workflow."""

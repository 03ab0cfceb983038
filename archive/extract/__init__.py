"""A page becomes an Article: extraction, links to follow, topic scoring, worker pool."""

"""A reviewer's own work on a thread (drafts, marks, trailers) and its export as mail."""

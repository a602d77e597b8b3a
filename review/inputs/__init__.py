"""Reading the outside world into the review model: mail, lore, git, series, quotes, diffs."""

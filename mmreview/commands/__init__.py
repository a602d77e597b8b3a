"""One sub-command per module: HELP, add_arguments(parser), run(args) -> int."""

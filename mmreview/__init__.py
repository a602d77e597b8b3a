"""The command line: the only layer that imports both review and tui."""

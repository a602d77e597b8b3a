"""Errors a user can act on. The CLI prints them as one line and exits 2."""


class InputError(Exception):
    """Bad input: the message names the input (file, step, range) and what is wrong."""

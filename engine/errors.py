"""The one error type for bad user input: its message names the field and what is allowed."""


class InputError(ValueError):
    """Bad input (unknown name, out-of-range value, malformed file). The CLI exits 2 on it."""

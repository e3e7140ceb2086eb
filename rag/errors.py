"""The one exception type a user can act on: its message is a single line naming the file or value."""


class RagError(Exception):
    """A problem the user can fix (bad setting, bad file, store unreachable); shown without traceback."""

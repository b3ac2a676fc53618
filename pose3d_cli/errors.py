"""The one base class of every error pose3d reports to a user as a single clear line."""


class Pose3dError(Exception):
    """An input or setting pose3d cannot use. The message names the file, what is wrong and what to do."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so that every writer cleans up the same way."""

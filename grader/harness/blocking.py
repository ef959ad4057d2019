"""Moved to `waits` (one module for waiting). Kept so uds-echo and mq-mailbox keep importing
`blocking` until they move to `waits`; remove it then."""
from .waits import *  # noqa: F401,F403
from .waits import BlockedIn, BlockingSample, blocked_in, cpu_to_wall, measure  # noqa: F401

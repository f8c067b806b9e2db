"""Settings of the program event status updates (flow 8), read from the environment like every setting.

The lifecycle operation's path is flow 6's `DACS_LIFECYCLE_PATH` (flows/event_cancellations/conf.py).
"""

from hub.env import env

DACS_PROGRAM_EVENT_PATH = env.str("DACS_PROGRAM_EVENT_PATH", default="rest/apis/cross/service/programEvent/")
DERMS_EVENT_STATUS_ACK_PATH = env.str("DERMS_EVENT_STATUS_ACK_PATH", default="event_status_ack")
# An update that waits for an earlier update of its event is woken when that one ends; it looks again
# after this long in any case.
EVENT_STATUS_RECHECK_S = env.float("EVENT_STATUS_RECHECK_S", default=60)

"""Settings of the event cancellations (flow 6), read from the environment like every setting."""

from hub.env import ImproperlyConfigured, env

DACS_LIFECYCLE_PATH = env.str("DACS_LIFECYCLE_PATH", default="rest/apis/cross/service/programEvent/lifecycle")
DACS_PRE_EVENT_CANCEL_PATH = env.str(
    "DACS_PRE_EVENT_CANCEL_PATH", default="rest/apis/cross/service/programEventParticipation/preEventCancellation"
)
# "lifecycle": the event's lifecycle operation; "legacy": the older pre-event cancellation operation.
DACS_CANCELLATION_MODE = env.str("DACS_CANCELLATION_MODE", default="lifecycle")
if DACS_CANCELLATION_MODE not in ("lifecycle", "legacy"):
    raise ImproperlyConfigured("DACS_CANCELLATION_MODE must be 'lifecycle' or 'legacy'")

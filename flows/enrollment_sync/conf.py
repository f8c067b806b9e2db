"""Settings of the enrollment synchronisation (flow 3), read from the environment like every setting."""

from hub.env import ImproperlyConfigured, env

DERMS_ENROLL_PATH = env.str("DERMS_ENROLL_PATH", default="enroll")
DACS_SYNC_ACK_PATH = env.str(
    "DACS_SYNC_ACK_PATH", default="rest/apis/cross/digitalAssets/enrollmentSync/acknowledgement"
)
# A sync DERMS has not acknowledged this long after DACS sent it is flagged overdue (technical email).
SYNC_ACK_OVERDUE_S = env.float("SYNC_ACK_OVERDUE_S", default=7200)
if SYNC_ACK_OVERDUE_S <= 0:
    raise ImproperlyConfigured("SYNC_ACK_OVERDUE_S must be positive")

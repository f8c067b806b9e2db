"""Settings of the event device outcomes (flow 7), read from the environment like every setting.

The DACS availability check before sending uses flow 5's settings (DACS_AVAILABILITY_WINDOW_S,
DACS_HEALTH_RECHECK_S).
"""

from hub.env import ImproperlyConfigured, env

DACS_EVENT_OUTCOME_PATH = env.str(
    "DACS_EVENT_OUTCOME_PATH", default="rest/apis/cross/service/programEventParticipation/postEventOutcome"
)
DERMS_EVENT_OUTCOME_ACK_PATH = env.str("DERMS_EVENT_OUTCOME_ACK_PATH", default="event_outcome_ack")
OUTCOME_COLLECTION_SIZE = env.int("OUTCOME_COLLECTION_SIZE", default=500)
if not 1 <= OUTCOME_COLLECTION_SIZE <= 5000:
    raise ImproperlyConfigured("OUTCOME_COLLECTION_SIZE must be between 1 and 5000")

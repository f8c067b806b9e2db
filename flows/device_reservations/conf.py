"""Settings of the device reservations (flow 5), read from the environment like every setting."""

from hub.env import ImproperlyConfigured, env

DACS_RESERVE_PATH = env.str(
    "DACS_RESERVE_PATH", default="rest/apis/cross/service/programEventParticipation/reserveDevice"
)
DERMS_RESERVATION_ACK_PATH = env.str("DERMS_RESERVATION_ACK_PATH", default="reservation_ack")
RESERVATION_COLLECTION_SIZE = env.int("RESERVATION_COLLECTION_SIZE", default=500)
if not 1 <= RESERVATION_COLLECTION_SIZE <= 5000:
    raise ImproperlyConfigured("RESERVATION_COLLECTION_SIZE must be between 1 and 5000")
# How long DACS may stay unavailable before the devices are failed.
DACS_AVAILABILITY_WINDOW_S = env.float("DACS_AVAILABILITY_WINDOW_S", default=900)
# While DACS is up, its health is checked again before sending after this long.
DACS_HEALTH_RECHECK_S = env.float("DACS_HEALTH_RECHECK_S", default=60)

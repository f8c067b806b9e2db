"""Settings of the head-end registration status (flow 9), read from the environment like every setting."""

from hub.env import env

DACS_REGISTRATION_ACK_PATH = env.str(
    "DACS_REGISTRATION_ACK_PATH", default="rest/apis/cross/digitalAssets/programEnrollments/postAcknowledgement"
)

"""Settings of the device status checks (flow 2), read from the environment like every setting."""

from hub.env import ImproperlyConfigured, env

DACS_STATUS_RESPONSE_PATH = env.str(
    "DACS_STATUS_RESPONSE_PATH", default="rest/apis/cross/digitalAssets/controllableDeviceStatus/response"
)
DERMS_STATUS_CHECK_PATH = env.str("DERMS_STATUS_CHECK_PATH", default="status_check")
# A status check DERMS has not answered this long after DACS asked is TIMED_OUT (DACS told FAILURE).
STATUS_CHECK_TIMEOUT_S = env.float("STATUS_CHECK_TIMEOUT_S", default=7200)
if STATUS_CHECK_TIMEOUT_S <= 0:
    raise ImproperlyConfigured("STATUS_CHECK_TIMEOUT_S must be positive")

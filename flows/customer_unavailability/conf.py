"""Settings of the customer unavailability (flow 11), read from the environment like every setting."""

from hub.env import env

DERMS_CUSTOMER_UNAVAILABILITY_PATH = env.str("DERMS_CUSTOMER_UNAVAILABILITY_PATH", default="customer_unavailability")

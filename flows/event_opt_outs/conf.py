"""Settings of the customer event opt-outs (flow 10), read from the environment like every setting."""

from hub.env import env

DERMS_EVENT_OPT_OUT_PATH = env.str("DERMS_EVENT_OPT_OUT_PATH", default="event_opt_out")

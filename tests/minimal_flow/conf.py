from hub.env import env

DACS_PING_PATH = env.str("DACS_PING_PATH", default="rest/apis/test/ping")

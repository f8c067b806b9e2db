"""Settings of the device calculated score files (flow 4), read from the environment like every setting.

Read after the hub's own settings, on which the run's time limits build.
"""

from hub.env import ImproperlyConfigured, env, hub_settings

task_budget_s = hub_settings["TASK_BUDGET_S"]
var_dir = hub_settings["VAR_DIR"]

DERMS_DEVICE_SCORE_PATH = env.str("DERMS_DEVICE_SCORE_PATH", default="device_score")
SCORE_SOURCE_URL = env.str("SCORE_SOURCE_URL", default=f"file://{var_dir / 'scores' / 'inbox'}")
SCORE_SOURCE_PASSWORD = env.str("SCORE_SOURCE_PASSWORD", default="")
SCORE_SOURCE_KEY_FILE = env.str("SCORE_SOURCE_KEY_FILE", default="")
SCORE_KNOWN_HOSTS = env.str("SCORE_KNOWN_HOSTS", default="")
SCORE_DESTINATION = env.str("SCORE_DESTINATION", default="rest")
SCORE_DESTINATION_PASSWORD = env.str("SCORE_DESTINATION_PASSWORD", default="")
SCORE_DESTINATION_KEY_FILE = env.str("SCORE_DESTINATION_KEY_FILE", default="")
SCORE_DESTINATION_KNOWN_HOSTS = env.str("SCORE_DESTINATION_KNOWN_HOSTS", default="")
SCORE_FILE_PREFIX = env.str("SCORE_FILE_PREFIX", default="SDCSE")
SCORE_DONE_PREFIXES = env.list("SCORE_DONE_PREFIXES", default=["Sent-", "Error-"])
SCORE_TEMP_SUFFIXES = env.list("SCORE_TEMP_SUFFIXES", default=[".part", ".tmp", ".filepart"])
SCORE_MIN_AGE_S = env.float("SCORE_MIN_AGE_S", default=5)
SCORE_SCHEDULE_MINUTES = env.int("SCORE_SCHEDULE_MINUTES", default=15)
SCORE_HEARTBEAT_S = env.float("SCORE_HEARTBEAT_S", default=10)
SCORE_SSH_TIMEOUT_S = env.float("SCORE_SSH_TIMEOUT_S", default=30)
SCORE_SFTP_REQUEST_BYTES = env.int("SCORE_SFTP_REQUEST_BYTES", default=255 * 1024)
# A run on the cluster stops taking files in time to finish the one in hand, waiting up to this
# long for DERMS's answer, within TASK_BUDGET_S: the wait must leave room for moving the file.
SCORE_SEND_TIMEOUT_S = env.float("SCORE_SEND_TIMEOUT_S", default=min(300, task_budget_s / 2))
if not 0 < SCORE_SEND_TIMEOUT_S < task_budget_s:
    raise ImproperlyConfigured(
        f"SCORE_SEND_TIMEOUT_S ({SCORE_SEND_TIMEOUT_S:g}) must be positive and below TASK_BUDGET_S "
        f"({task_budget_s:g}, itself below Q_TIMEOUT_S): a score run waiting that long for DERMS's answer "
        "would be killed by the worker's task timeout"
    )
# A file claim or a run silent this long lost its worker: the claim is taken back, the run ended.
# A live run is silent at most while it waits for an answer (DERMS's, or one SFTP operation's).
SCORE_CLAIM_STALE_S = env.float("SCORE_CLAIM_STALE_S", default=300)
if SCORE_CLAIM_STALE_S <= max(SCORE_SEND_TIMEOUT_S, SCORE_SSH_TIMEOUT_S) + SCORE_HEARTBEAT_S:
    raise ImproperlyConfigured(
        f"SCORE_CLAIM_STALE_S ({SCORE_CLAIM_STALE_S:g}) must be above SCORE_SEND_TIMEOUT_S and "
        "SCORE_SSH_TIMEOUT_S plus SCORE_HEARTBEAT_S: a live run would be taken for a dead one"
    )
SCORE_NO_FILE_EMAIL = env.bool("SCORE_NO_FILE_EMAIL", default=False)
if SCORE_DESTINATION != "rest" and not SCORE_DESTINATION.startswith("sftp://"):
    raise ImproperlyConfigured("SCORE_DESTINATION must be 'rest' or 'sftp://user@host:port/path'")
if not SCORE_SOURCE_URL.startswith(("sftp://", "file://")):
    raise ImproperlyConfigured("SCORE_SOURCE_URL must be 'sftp://user@host:port/path' or 'file:///path'")

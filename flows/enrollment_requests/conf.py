"""Settings of the enrollment requests (flow 1), read from the environment like every setting."""

from hub.env import env

# Partner paths, relative to the partners' base URLs.
DACS_ENROLL_PATH = env.str("DACS_ENROLL_PATH", default="rest/apis/cross/digitalAssets/programEnrollments/enroll")
DERMS_ENROLLMENT_RESPONSE_PATH = env.str("DERMS_ENROLLMENT_RESPONSE_PATH", default="enrollment_response")
# The enrollment source DACS records for enrollments the hub makes.
DACS_ENROLLMENT_SOURCE = env.str("DACS_ENROLLMENT_SOURCE", default="X1BY")

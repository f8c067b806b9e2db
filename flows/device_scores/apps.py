from hub.registry import FlowApp, Records


class DeviceScoresConfig(FlowApp):
    name = "flows.device_scores"
    label = "device_scores"
    verbose_name = "Device score files"

    records = (
        Records("Score-file runs", "device_scores.ScoreRun", "status", "started_at"),
        Records("Score files", "device_scores.ScoreFile", "status", "claimed_at"),
    )
    # Sending a failed score file again (its admin action).
    support_permissions = ("change_scorefile",)

    def metrics(self):
        from flows.device_scores.metrics import score_file_metrics  # the app registry imports apps.py before models

        return score_file_metrics()

    def sweep(self) -> dict[str, int]:
        from flows.device_scores.transfer import runs_recover  # the app registry imports apps.py before models

        return {"score_runs": runs_recover()}

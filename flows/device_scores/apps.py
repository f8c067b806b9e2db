from hub.registry import FlowApp


class DeviceScoresConfig(FlowApp):
    name = "flows.device_scores"
    label = "device_scores"
    verbose_name = "Device score files"

    def sweep(self) -> dict[str, int]:
        from flows.device_scores.transfer import runs_recover  # the app registry imports apps.py before models

        return {"score_runs": runs_recover()}

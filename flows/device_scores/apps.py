from django.apps import AppConfig


class DeviceScoresConfig(AppConfig):
    name = "flows.device_scores"
    label = "device_scores"
    verbose_name = "Device score files"

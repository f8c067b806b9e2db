from django.apps import AppConfig


class DeviceStatusConfig(AppConfig):
    name = "flows.device_status"
    label = "device_status"
    verbose_name = "Device status checks"

from django.apps import AppConfig


class DeviceReservationsConfig(AppConfig):
    name = "flows.device_reservations"
    label = "device_reservations"
    verbose_name = "Program events"

from django.apps import AppConfig


class SimulatorsConfig(AppConfig):
    name = "hub.simulators"
    label = "simulators"
    verbose_name = "Built-in partner stand-ins"

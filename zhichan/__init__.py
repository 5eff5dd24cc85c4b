"""Zhichan's shared kernel: what every service and the gateway stand on."""

SERVICES = ("targets", "enforcement", "financing", "agencies")

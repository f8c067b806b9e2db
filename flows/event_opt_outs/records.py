"""Devices as flow 10 leaves them: opted out of their event once DERMS accepted it, and a line on the device."""

from __future__ import annotations

from flows.device_reservations.models import EventDevice, ProgramEvent
from flows.event_opt_outs.models import EventOptOut
from hub.models import Message
from records.models import BusinessKey, DeviceEvent
from records.projection import Entry, devices_upsert, keys_add, timeline_add


def opt_out_text(opt_out: EventOptOut) -> str:
    text = f"Opt-out {opt_out.opt_out_id} from event {opt_out.event_id}"
    if opt_out.reason:
        text += f" ({opt_out.reason})"
    text += f": {opt_out.get_state_display()}"
    if opt_out.derms_message and opt_out.state != EventOptOut.State.OPTED_OUT:
        text += f": {opt_out.derms_message}"
    return text


def project(message: Message) -> None:
    opt_out = EventOptOut.objects.filter(message=message).first()
    if opt_out is None:
        return
    pair = (opt_out.nic_id, opt_out.head_end_system)
    device_id = devices_upsert({pair: {}})[pair]
    if opt_out.state == EventOptOut.State.OPTED_OUT:
        # The device's part in the event, when the hub reserved it (an opt-out of another device is kept all the same).
        DeviceEvent.objects.filter(device_id=device_id, event_id=opt_out.event_id).update(
            reservation_state=EventDevice.State.OPTED_OUT, reservation_error=""
        )
    keys = [
        (BusinessKey.Target.DEVICE, device_id, "optOutId", opt_out.opt_out_id),
        (BusinessKey.Target.MESSAGE, message.id, "eventId", opt_out.event_id),
    ]
    event = ProgramEvent.objects.filter(event_id=opt_out.event_id).values_list("id", flat=True).first()
    if event is not None:
        keys.append((BusinessKey.Target.EVENT, event, "optOutId", opt_out.opt_out_id))
    keys_add(keys)
    timeline_add([Entry(message, "opt_out", opt_out_text(opt_out), message.received_at, device_id=device_id)])

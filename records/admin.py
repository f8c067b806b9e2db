"""The records' console pages: enrollments and devices, filtered, searched, exported, each with its timeline."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.contrib import admin
from django.db import connection
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timezone import localtime

from hub.admin.audit import RecordAdmin
from hub.admin.search import PREFIX_MIN, keys_matching
from records.console import device_panels
from records.models import BusinessKey, Device, DeviceEvent, Enrollment, TimelineEntry

CHOICES_SHOWN = 50  # distinct values offered by a filter; more would not fit beside the list
GOOD = {"DACS_ENROLLED", "ACKNOWLEDGED", "SUCCESS", "RESERVED", "ANSWERED", "UNENROLLED"}
BAD = {"DACS_REFUSED", "DACS_FAILED", "DERMS_REFUSED", "SYNC_FAILED", "FAILURE", "ERROR", "FAILED", "TIMED_OUT"}


def badge(value: str, label: str = "") -> str:
    if not value:
        return "—"
    tone = "good" if value in GOOD else "bad" if value in BAD else "wait"
    return format_html('<span class="badge badge-{}">{}</span>', tone, label or value.replace("_", " ").lower())


def column(name: str, title: str):
    """A list column showing field `name` under a short title (the contract's name stays on the record page)."""

    @admin.display(description=title, ordering=name)
    def show(self, obj) -> object:
        value = getattr(obj, name)
        if isinstance(value, datetime):
            return format_html('<span style="white-space: nowrap">{}</span>', f"{localtime(value):%Y-%m-%d %H:%M}")
        return value

    return show


def record_ids(term: str, target: str) -> list[int]:
    """Ids of the records of `target` one of whose keys matches `term` (exact, or by prefix when long enough)."""
    term = term.strip()
    if not term:
        return []
    rows = keys_matching(term, prefix=False, limit=10_000)
    if len(term) >= PREFIX_MIN:
        rows += keys_matching(term, prefix=True, limit=10_000)
    return sorted({row.target_id for row in rows if row.target == target})


class ValuesFilter(admin.SimpleListFilter):
    """A filter offering the distinct values of an indexed column.

    Read by a loose index scan (one index probe per value, a recursive query both PostgreSQL and
    SQLite run), not a DISTINCT over every row.
    """

    model: type[Model] = Enrollment
    column = ""

    def lookups(self, request, model_admin):
        quote = connection.ops.quote_name
        table, column = quote(self.model._meta.db_table), quote(self.column)
        sql = (
            f"WITH RECURSIVE v(value) AS (SELECT MIN({column}) FROM {table} UNION ALL "
            f"SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.value) FROM v WHERE v.value IS NOT NULL) "
            f"SELECT value FROM v WHERE value IS NOT NULL LIMIT {CHOICES_SHOWN}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [(value, value) for (value,) in cursor.fetchall() if value]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.column: self.value()}) if self.value() else queryset


class ProgramFilter(ValuesFilter):
    title = "program"
    parameter_name = "program"
    column = "program_code"


class DeviceProgramFilter(ProgramFilter):
    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        enrolled = Device.enrollments.through.objects.filter(
            device=OuterRef("pk"), enrollment__program_code=self.value()
        )
        return queryset.filter(Exists(enrolled))


class HeadEndFilter(ValuesFilter):
    title = "head-end system"
    parameter_name = "head_end"
    model = Device
    column = "head_end_system"


class CheckFilter(admin.SimpleListFilter):
    title = "last status check"
    parameter_name = "check"
    CHOICES = {
        "SUCCESS": "communicating",
        "FAILURE": "not communicating",
        "TIMED_OUT": "no answer",
        "none": "never checked",
    }

    def lookups(self, request, model_admin):
        return list(self.CHOICES.items())

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "none":
            return queryset.filter(checked_at__isnull=True)
        return queryset.filter(check_result=self.value()) if self.value() in self.CHOICES else queryset


class ExportMixin(admin.ModelAdmin):
    """A CSV of the list as filtered and searched, streamed row by row."""

    csv_fields: tuple[str, ...] = ()

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_export"
        export = path("export/", self.admin_site.admin_view(self.export_view), name=name)
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.queryset.values_list(*self.csv_fields).order_by("-id")

        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(Echo())

        def lines() -> Iterator[str]:
            yield writer.writerow(self.csv_fields)
            for row in rows.iterator(chunk_size=2000):
                yield writer.writerow(["" if v is None else v for v in row])

        name = f"{self.model._meta.model_name}s-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class RecordsAdmin(ExportMixin, RecordAdmin):
    target = ""
    list_per_page = 50
    change_list_template = "admin/records/change_list.html"
    search_help_text = (
        f"Any business key, any case: cisPersonId, cisAccountId, premise, service point, program, nicId, "
        f"enrollment or subscription id… Keys of {PREFIX_MIN} characters or more also match by their start."
    )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=record_ids(search_term, self.target)), False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {"timeline": self.timeline(object_id) if object_id else [], **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, extra)

    def timeline(self, object_id: str) -> list[TimelineEntry]:
        raise NotImplementedError


@admin.register(Enrollment)
class EnrollmentAdmin(RecordsAdmin):
    target = BusinessKey.Target.ENROLLMENT
    list_display = ("customer", "program", "service_point", "status_badge", "dacs_id", "updated")
    list_display_links = ("customer",)
    list_filter = (
        ProgramFilter,
        "status",
        ("requested_at", admin.DateFieldListFilter),
        ("updated_at", admin.DateFieldListFilter),
    )
    search_fields = ("=cis_person_id",)  # shows the box; get_search_results does the search
    change_form_template = "admin/records/enrollment/change_form.html"
    csv_fields = (
        "id",
        "cis_person_id",
        "cis_account_id",
        "customer_name",
        "cis_premise_id",
        "cis_service_point_id",
        "program_code",
        "service_agreement_id",
        "start_date",
        "status",
        "request_id",
        "requested_at",
        "dacs_result",
        "dacs_enrollment_id",
        "dacs_error",
        "subscription_id",
        "sync_request_id",
        "sync_action",
        "synced_at",
        "derms_ack_type",
        "derms_message",
        "acknowledged_at",
        "dacs_ack_status",
        "updated_at",
    )
    fieldsets = (
        (
            "Customer and location",
            {"fields": ("cis_person_id", "cis_account_id", "customer_name", "cis_premise_id", "cis_service_point_id")},
        ),
        ("Program", {"fields": ("program_code", "service_agreement_id", "start_date", "status_badge")}),
        (
            "Request and DACS's answer",
            {
                "classes": ("collapse",),
                "fields": (
                    "request_id",
                    "request_message",
                    "requested_at",
                    "dacs_result",
                    "dacs_enrollment_id",
                    "dacs_error",
                    "dacs_result_at",
                ),
            },
        ),
        (
            "Synchronisation and DERMS's acknowledgement",
            {
                "classes": ("collapse",),
                "fields": (
                    "subscription_id",
                    "sync_request_id",
                    "sync_action",
                    "sync_state",
                    "sync_message",
                    "synced_at",
                    "derms_ack_type",
                    "derms_message",
                    "acknowledged_at",
                    "dacs_ack_status",
                ),
            },
        ),
        ("Record", {"classes": ("collapse",), "fields": ("created_at", "updated_at")}),
    )
    readonly_fields = [f for section in fieldsets for f in section[1]["fields"] if isinstance(f, str)]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Enrollment) -> str:
        return badge(obj.status, obj.get_status_display())

    customer = column("cis_person_id", "customer")
    program = column("program_code", "program")
    service_point = column("cis_service_point_id", "service point")
    dacs_id = column("dacs_enrollment_id", "DACS enrollment")
    updated = column("updated_at", "updated")

    def timeline(self, object_id: str) -> list[TimelineEntry]:
        entries = TimelineEntry.objects.filter(enrollment_id=object_id).select_related("message")
        return list(entries.defer("message__raw_body", "message__headers").order_by("at", "id")[:500])

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        devices = Device.objects.filter(enrollments__id=object_id).order_by("nic_id")[:100] if object_id else []
        return super().changeform_view(request, object_id, form_url, {"devices": devices, **(extra_context or {})})


@admin.register(Device)
class DeviceAdmin(RecordsAdmin):
    target = BusinessKey.Target.DEVICE
    list_display = ("device", "head_end", "device_type", "check_badge", "checked", "updated")
    list_display_links = ("device",)
    list_filter = (
        HeadEndFilter,
        DeviceProgramFilter,
        CheckFilter,
        ("checked_at", admin.DateFieldListFilter),
        ("updated_at", admin.DateFieldListFilter),
    )
    search_fields = ("=nic_id",)
    change_form_template = "admin/records/device/change_form.html"
    csv_fields = (
        "id",
        "nic_id",
        "head_end_system",
        "device_type",
        "specification",
        "check_communication_id",
        "check_state",
        "check_result",
        "check_text",
        "checked_at",
        "registration_state",
        "registered_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("nic_id", "head_end_system", "device_type", "specification", "check_badge", "checked_at")}),
        (
            "Latest status check",
            {
                "classes": ("collapse",),
                "fields": ("check_communication_id", "check_state", "check_text", "check_message"),
            },
        ),
        (
            "Head-end registration",
            {"classes": ("collapse",), "fields": ("registration_state", "registered_at", "registration_message")},
        ),
        ("Record", {"classes": ("collapse",), "fields": ("created_at", "updated_at")}),
    )
    readonly_fields = [f for section in fieldsets for f in section[1]["fields"] if isinstance(f, str)]

    device = column("nic_id", "nicId")
    head_end = column("head_end_system", "head-end system")
    checked = column("checked_at", "checked")
    updated = column("updated_at", "updated")

    @admin.display(description="last status check", ordering="check_result")
    def check_badge(self, obj: Device) -> str:
        return badge(obj.check_result or obj.check_state)

    def timeline(self, object_id: str) -> list[TimelineEntry]:
        """The device's own entries and those of the events it took part in, oldest first."""
        event_ids = list(DeviceEvent.objects.filter(device_id=object_id).values_list("event_id", flat=True)[:200])
        records = [f"event:{event_id}" for event_id in event_ids]
        entries = TimelineEntry.objects.filter(Q(device_id=object_id) | Q(record__in=records)).select_related("message")
        return list(entries.defer("message__raw_body", "message__headers").order_by("at", "id")[:500])

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra: dict[str, QuerySet] = {}
        if object_id:
            extra["events"] = (
                DeviceEvent.objects.filter(device_id=object_id)
                .select_related("reservation_message")
                .defer("reservation_message__raw_body", "reservation_message__headers")[:200]
            )
            extra["enrollments"] = Enrollment.objects.filter(devices__id=object_id).order_by("-updated_at")[:100]
            device = Device.objects.filter(id=object_id).only("nic_id", "head_end_system").first()
            if device is not None:
                extra.update(device_panels(device))  # registration, unavailability, opt-outs (flows 9–11)
        return super().changeform_view(request, object_id, form_url, {**extra, **(extra_context or {})})

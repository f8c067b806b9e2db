from django.contrib import admin, messages

from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.services import files_send_again
from hub.admin.audit import RecordAdmin


class ScoreFileInline(admin.TabularInline):
    model = ScoreFile
    fields = ("name", "status", "size", "rows", "sha256", "destination_status", "renamed_to", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ScoreRun)
class ScoreRunAdmin(RecordAdmin):
    list_display = (
        "id",
        "started_at",
        "trigger",
        "status",
        "files_found",
        "files_sent",
        "files_failed",
        "bytes_sent",
        "duration_ms",
    )
    list_filter = ("status", "trigger")
    inlines = [ScoreFileInline]


@admin.register(ScoreFile)
class ScoreFileAdmin(RecordAdmin):
    list_display = ("name", "status", "size", "rows", "destination_status", "renamed_to", "run", "claimed_at")
    list_filter = ("status",)
    list_select_related = ("run",)
    search_fields = ("=name", "=sha256")
    actions = ["send_again"]

    def has_send_again_permission(self, request) -> bool:
        return request.user.has_perm("device_scores.change_scorefile")

    @admin.action(permissions=["send_again"], description="Send again (rename Error- files back and run now)")
    def send_again(self, request, queryset):
        done, problems = files_send_again(files=list(queryset), actor=request.user)
        if done:
            self.message_user(request, f"{done} file(s) renamed back; a transfer run was started.", messages.SUCCESS)
        for problem in problems:
            self.message_user(request, problem, messages.WARNING)

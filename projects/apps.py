from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("重点项目")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)

        # The nav's workbook import link: decided once at sign-in, kept in the session.
        from django.contrib.auth.signals import user_logged_in

        from .workbook_views import remember_import_permission

        user_logged_in.connect(remember_import_permission, dispatch_uid="workbook-import-nav")

        # The nav's re-plan queue link (调整计划审核), decided the same way.
        from .replan_views import remember_replan_queue_access

        user_logged_in.connect(remember_replan_queue_access, dispatch_uid="replan-queue-nav")

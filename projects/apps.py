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

        # The navigation's import link and re-plan queue: decided once at sign-in, kept in the session.
        from django.contrib.auth.signals import user_logged_in

        from .navigation import remember_navigation

        user_logged_in.connect(remember_navigation, dispatch_uid="projects-navigation")

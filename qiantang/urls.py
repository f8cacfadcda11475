"""The site's URLs: each app's own, by name (the kernel imports no app)."""
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = _("钱塘区重点项目三色预警系统")
admin.site.site_title = _("三色预警管理后台")
admin.site.index_title = _("管理后台")

urlpatterns = [
    path("", include("projects.urls")),
    path("", include("qiantang_warnings.escalations.urls")),
    path("workbook/", include("projects.workbook.urls")),
    path("", include("projects.coordination.urls")),
    path("digest/", include("qiantang_warnings.digest.urls")),
    path("dashboard/", include("qiantang_warnings.dashboard.urls")),
    path("", include("qiantang_warnings.ledger.urls")),
    path("", include("qiantang_warnings.screen.urls")),
    path("accounts/", include("projects.account_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("qiantang_warnings.health.urls")),
    # The admin's own password change checks the old password without the throttle
    # (AdminSite has no hook for its form); it already renders our page, which posts
    # to accounts/password/, so send it there. Must come before admin.site.urls.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
]

# A locked embedded database answers "busy, try again" (503); anything else the plain 500 page.
handler500 = "qiantang.errors.server_error"

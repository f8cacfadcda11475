from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from projects.forms import (
    ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm, ThrottledPasswordChangeForm,
)

admin.site.site_header = _("钱塘区重点项目三色预警系统")
admin.site.site_title = _("三色预警管理后台")
admin.site.index_title = _("管理后台")
# The admin signs in through the same throttle as the site, so a lock holds at both.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", include("projects.urls")),
    path("workbook/", include("projects.workbook_urls")),
    path("digest/", include("qiantang_warnings.digest_urls")),
    path("dashboard/", include("qiantang_warnings.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(form_class=ThrottledPasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's own password change checks the old password without the throttle
    # (AdminSite has no hook for its form); it already renders our page, which posts
    # to accounts/password/, so send it there. Must come before admin.site.urls.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from projects.forms import ThrottledAuthenticationForm

admin.site.site_header = _("钱塘区重点项目三色预警系统")
admin.site.site_title = _("三色预警管理后台")
admin.site.index_title = _("管理后台")

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
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login", views.login_view, name="login"),
    path("accounts/logout", views.logout_view, name="logout"),
    path("accounts/register", views.register, name="register"),
    path("accounts/mfa/setup", views.mfa_setup, name="mfa_setup"),
    path("accounts/mfa/verify", views.mfa_verify, name="mfa_verify"),
    path("accounts/me", views.profile, name="profile"),
    path("accounts/identity", views.identity_page, name="identity"),
    path("accounts/enterprises", views.my_enterprises, name="my_enterprises"),
    path("inbox/", views.inbox, name="inbox"),
    path("window/lookup", views.person_lookup, name="person_lookup"),
    path("window/persons/new", views.person_register, name="person_register"),
    path("window/persons/<uuid:public_id>", views.person_reveal, name="person_reveal"),
    path(
        "window/persons/<uuid:public_id>/verify",
        views.person_verify_in_person,
        name="person_verify_in_person",
    ),
    path("window/identity", views.identity_claims, name="identity_claims"),
    path("window/identity/<uuid:public_id>", views.identity_claim, name="identity_claim"),
    path("org/departments", views.departments, name="departments"),
    path("org/staff", views.staff_list, name="staff_list"),
    path("org/staff/<str:username>", views.staff_detail, name="staff_detail"),
    path("org/staff/<str:username>/unlock", views.staff_unlock, name="staff_unlock"),
    path("org/windows", views.windows, name="windows"),
]

from django.urls import path

from . import views

app_name = "crm"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer-list"),
    path("search/", views.QuickSearchView.as_view(), name="quick-search"),
    path("export/", views.CustomerExportView.as_view(), name="customer-export"),
    path("bulk/tier/", views.CustomerBulkTierView.as_view(), name="customer-bulk-tier"),
    path("contacts/export/", views.ContactExportView.as_view(), name="contact-export"),
    path("new/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("<int:pk>/archive/", views.CustomerArchiveView.as_view(), name="customer-archive"),
    path("<int:pk>/restore/", views.CustomerRestoreView.as_view(), name="customer-restore"),
    path("<int:pk>/probability/", views.ProbabilityOverrideView.as_view(), name="customer-probability"),
    path("<int:pk>/merge/", views.CustomerMergeView.as_view(), name="customer-merge"),
    path("<int:pk>/contacts/new/", views.ContactFormView.as_view(), name="contact-create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.ContactFormView.as_view(), name="contact-update"),
]

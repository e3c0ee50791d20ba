from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("desk/", views.index, name="index"),
    path("desk/equipment/", views.equipment_list, name="equipment"),
    path("desk/equipment/export.xlsx", views.equipment_export, name="equipment_export"),
    path("desk/equipment/endpoint/<int:endpoint_pk>/add/", views.device_add, name="device_add"),
    path("desk/equipment/endpoint/<int:endpoint_pk>/line/", views.line_set, name="line_set"),
    path("desk/equipment/<int:pk>/", views.device_detail, name="device_detail"),
    path("desk/equipment/<int:pk>/edit/", views.device_edit, name="device_edit"),
    path("desk/equipment/<int:pk>/work/", views.device_work, name="device_work"),
    path("desk/nodes/", views.nodes, name="nodes"),
    path("desk/nodes/<int:pk>/", views.node_versions, name="node_versions"),
    path("desk/plans/", views.plans, name="plans"),
    path("desk/plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("desk/tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("desk/roster/", views.roster, name="roster"),
    path("desk/roster/<int:pk>/handover/", views.shift_handover, name="shift_handover"),
    path("desk/meetings/<int:pk>/technician/", views.meeting_assign, name="meeting_assign"),
    path("desk/providers/", views.providers, name="providers"),
    path("desk/providers/<int:pk>/", views.provider_detail, name="provider_detail"),
    path("desk/incidents/", views.incidents, name="incidents"),
    path("desk/incidents/<int:pk>/route/", views.incident_route, name="incident_route"),
    path("desk/incidents/<int:pk>/kind/", views.incident_kind, name="incident_kind"),
    path("desk/routes/<int:pk>/reply/", views.route_reply, name="route_reply"),
    path("desk/line/<str:token>/", views.provider_reply, name="provider_reply"),
    path("desk/contacts/", views.contacts, name="contacts"),
    path("desk/contacts/export.xlsx", views.contacts_export, name="contacts_export"),
    path("desk/training/<int:pk>/done/", views.training_done, name="training_done"),
]

from django.urls import path

from wenming.demands import views

app_name = "demands"
urlpatterns = [
    path("", views.menu, name="menu"),
    path("order/", views.order_form, name="order"),
    path("board/", views.board, name="board"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:number>/", views.mine_detail, name="mine_detail"),
    path("mine/<str:number>/<slug:action>/", views.mine_action, name="mine_action"),
    path("o/<str:number>/<str:token>/", views.track, name="track"),
    path("o/<str:number>/<str:token>/<slug:action>/", views.track_action, name="track_action"),
    path("tasks/", views.tasks, name="tasks"),
    path("manage/", views.manage_list, name="manage"),
    path("manage/new/", views.manage_create, name="manage_create"),
    path("manage/figures/", views.figures, name="figures"),
    path("manage/menu/", views.menu_manage, name="menu_manage"),
    path("manage/menu/new/", views.menu_edit, name="menu_create"),
    path("manage/menu/<int:item_id>/", views.menu_edit, name="menu_edit"),
    path("manage/<int:order_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:order_id>/contact/", views.contact_reveal, name="contact"),
    path("manage/<int:order_id>/<slug:action>/", views.manage_action, name="manage_action"),
    path("photo/<int:photo_id>.jpg", views.photo_file, name="photo"),
]

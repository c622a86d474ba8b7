from __future__ import annotations

from django.urls import path

from rt_django_project import views

urlpatterns = [
    path("authors/", views.list_authors),
    path("authors/eager/", views.list_authors_eager),
    path("authors/<int:author_id>/", views.get_author),
    path("books/", views.list_books),
    path("books/eager/", views.list_books_eager),
    path("async/stall/", views.stall),
    path("concurrent/<str:table>/", views.concurrent),
]

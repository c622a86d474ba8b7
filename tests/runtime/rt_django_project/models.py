from __future__ import annotations

from django.db import models

AUTHORS = 6
BOOKS_PER_AUTHOR = 2


class Author(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        app_label = "rt_django_project"


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)

    class Meta:
        app_label = "rt_django_project"


def seed() -> None:
    for number in range(AUTHORS):
        author = Author.objects.create(name=f"author {number}")
        Book.objects.bulk_create(Book(title=f"book {number}.{index}", author=author) for index in range(BOOKS_PER_AUTHOR))

from __future__ import annotations

import threading
import time

from django.http import HttpRequest, JsonResponse

from rt_django_project.models import Author, Book

STALL_SECONDS = 0.5
barrier = threading.Barrier(2, timeout=10)


def list_authors(request: HttpRequest) -> JsonResponse:
    authors = [{"name": a.name, "books": [b.title for b in a.books.all()]} for a in Author.objects.all()]  # rt: django-lazy
    return JsonResponse(authors, safe=False)


def list_authors_eager(request: HttpRequest) -> JsonResponse:
    authors = Author.objects.prefetch_related("books")
    return JsonResponse([{"name": a.name, "books": [b.title for b in a.books.all()]} for a in authors], safe=False)


def list_books(request: HttpRequest) -> JsonResponse:
    return JsonResponse([{"title": b.title, "author": b.author.name} for b in Book.objects.all()], safe=False)  # rt: django-fk


def list_books_eager(request: HttpRequest) -> JsonResponse:
    books = Book.objects.select_related("author")
    return JsonResponse([{"title": book.title, "author": book.author.name} for book in books], safe=False)


def get_author(request: HttpRequest, author_id: int) -> JsonResponse:
    author = Author.objects.filter(pk=author_id).first()
    return JsonResponse({"name": author.name if author else None})


async def stall(request: HttpRequest) -> JsonResponse:
    time.sleep(STALL_SECONDS)  # rt: django-stall
    return JsonResponse({"slept": "yes"})


def concurrent(request: HttpRequest, table: str) -> JsonResponse:
    model = Author if table == "authors" else Book
    first = len(list(model.objects.all()))
    barrier.wait()
    second = len(list(model.objects.all()))
    return JsonResponse({"rows": first + second})

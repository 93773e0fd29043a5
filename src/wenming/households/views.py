from django.http import HttpRequest, HttpResponse


def household_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    return HttpResponse("")


def event_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    return HttpResponse("")


def coverage(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")

from django.http import HttpResponse


def hello(request):
    return HttpResponse("Hello from Django!", content_type="text/plain")

"""Language choice: zh-hans unless the user picked English with the switch.

Django's LocaleMiddleware also follows the browser's Accept-Language, which
would show English to district staff whose browsers happen to ask for it.
Here only the language cookie (set by the switch) can change the default.
"""
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = dict(settings.LANGUAGES)
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response = super().process_response(request, response)
        # Leave the thread as it was: the next request (or test) starts from the default.
        translation.deactivate()
        return response

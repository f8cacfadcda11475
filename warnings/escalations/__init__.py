"""督办 (escalation) on the project page: its form (forms.py), the view answering it
(views.py, urls.py). The model is qiantang_warnings.models.Escalation; creating one is a
service (qiantang_warnings.services.escalation_create); the panel's content a selector."""

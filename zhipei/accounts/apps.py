from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zhipei.accounts"
    label = "accounts"

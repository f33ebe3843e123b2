from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "zhipei.orgs"
    label = "orgs"

    def ready(self) -> None:
        from zhipei.core.crypto import register_encrypted_field

        # Platform API secrets, sealed with the credential's key id as associated data
        # (orgs.services.credential_associated_data); manage.py rotate_keys re-encrypts them.
        register_encrypted_field(
            "orgs.PlatformCredential",
            "secret_ciphertext",
            "secret_key_id",
            associated_data_field="key_id",
        )

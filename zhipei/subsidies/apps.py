from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "zhipei.subsidies"
    label = "subsidies"

    def ready(self) -> None:
        from zhipei.core.crypto import register_encrypted_field

        # A payment's account snapshot is sealed with its reference as associated data
        # (subsidies.disbursement), so rotate_keys can re-encrypt it.
        register_encrypted_field(
            "subsidies.Payment",
            "account_ciphertext",
            "account_key_id",
            associated_data_field="reference",
        )
        # An applicant's bank account is sealed with the application's primary key.
        register_encrypted_field(
            "subsidies.Application",
            "account_ciphertext",
            "account_key_id",
            associated_data_field="pk",
        )

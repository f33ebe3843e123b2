from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Layer 2: real-name people, their categories and holds; ID numbers encrypted at rest."""

    name = "zhipei.people"
    label = "people"

    def ready(self) -> None:
        from zhipei.core.crypto import register_encrypted_field

        # The blind index is the associated data: a ciphertext moved to another row no longer
        # opens (manage.py rotate_keys reads this registration).
        register_encrypted_field(
            "people.Person", "id_ciphertext", "id_key_id", associated_data_field="id_blind_index"
        )

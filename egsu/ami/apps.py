from django.apps import AppConfig


class AmiConfig(AppConfig):
    name = "egsu.ami"
    label = "ami"
    verbose_name = "AMI metering (electricity, heat, gas)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from egsu.ami.broker import on_head_end_change
        from egsu.ami.models import HeadEndSystem

        # the broker's credentials and ACL follow the registry (issue 12 item 6)
        post_save.connect(on_head_end_change, sender=HeadEndSystem, dispatch_uid="ami-broker-acl")
        post_delete.connect(on_head_end_change, sender=HeadEndSystem, dispatch_uid="ami-broker-acl-delete")

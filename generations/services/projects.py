from django.db import transaction

from generations.models import Membership, Project, Role


@transaction.atomic
def project_create(*, name: str, owner, description: str = "") -> Project:
    name = name.strip()
    if not name:
        raise ValueError("A project needs a name")
    project = Project.objects.create(name=name, description=description.strip(), created_by=owner)
    Membership.objects.create(project=project, user=owner, roles=[Role.OWNER])
    return project

import pytest
from django.contrib.auth.models import Group

from erpcontinuity.roles import ROLES, sync_role_permissions


@pytest.mark.django_db
def test_the_four_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


@pytest.mark.django_db
def test_business_users_only_read_the_continuity_core(business_user):
    assert business_user.has_perm("plans.view_fallbackprocedure")
    assert business_user.has_perm("plans.view_erpservice")
    assert not business_user.has_perm("plans.change_erpservice")
    assert not business_user.has_perm("risks.view_risk")


@pytest.mark.django_db
def test_only_managers_and_administrators_approve_plans(ops_user, manager_user, admin_user):
    assert manager_user.has_perm("plans.approve_planversion")
    assert admin_user.has_perm("plans.approve_planversion")
    assert not ops_user.has_perm("plans.approve_planversion")


@pytest.mark.django_db
def test_syncing_twice_changes_nothing():
    before = {g.name: set(g.permissions.values_list("id", flat=True)) for g in Group.objects.all()}
    sync_role_permissions()
    sync_role_permissions()
    after = {g.name: set(g.permissions.values_list("id", flat=True)) for g in Group.objects.all()}
    assert before == after

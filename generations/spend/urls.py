from django.urls import path

from generations.spend import views as spend

P = "projects/<uuid:project_uuid>/"
G = P + "generations/<uuid:generation_uuid>/"

urlpatterns = [
    path(P + "spend/", spend.spend, name="spend"),
    path(P + "spend/budget/", spend.budget_update, name="spend_budget"),
    path(P + "spend/policy/", spend.policy_update, name="spend_policy"),
    path(P + "spend/adjust/", spend.ledger_adjust, name="spend_adjust"),
    path(P + "spend/ledger.csv", spend.ledger_csv, name="spend_ledger_csv"),
    path(P + "spend/<slug:table>.csv", spend.spend_table_csv, name="spend_table_csv"),
    path("spend/", spend.spend_overview, name="spend_overview"),
    path("spend/overview.csv", spend.spend_overview_csv, name="spend_overview_csv"),
    path(
        G + "attempts/<int:number>/settle-charge/",
        spend.possible_charge_settle,
        name="spend_possible_charge_settle",
    ),
]

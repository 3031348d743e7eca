"""Remove each company filter in turn and prove the tenant tests fail (issue 18).

    .venv/bin/python tests/mutations/run_tenant_mutations.py [--only ID ...] [--list]

Each mutation names a file and an exact source snippet (not a line number, so it
survives code moving within a file) and what replaces it. The run copies the project to a
temporary folder (one copy per job), checks the unmutated copy passes the fast subset (the
tenant matrices and twin tests) while the first mutations run, then for each mutation
writes the mutated file into a copy, runs the subset with `-x` on SQLite, the tests the
mutation names first (the test that killed it last time), and restores the file. A
mutation is killed when a test fails (pytest's exit status 1). Each copy keeps its migrated
test database between runs. The working tree is never touched, so an interrupted run
leaves nothing behind.

Exit status: 0 when every mutation is killed; 1 when one survives or the unmutated subset
fails; 2 when a file, a snippet (or its being unique) or a test a mutation names no longer
exists, or a run ends without a verdict: after code moves, update the list.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The fastest proof first: the API matrix, the twins, then the (slower) admin matrix.
FAST_SUBSET = [
    "tests/tenancy/test_api_matrix.py",
    "tests/tenancy/test_twins.py",
    "tests/tenancy/test_admin_matrix.py",
]
IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "var", "__pycache__", "*.sqlite3", ".ruff_cache", ".pytest_cache", "media"
)


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    snippet: str
    replacement: str
    tests: tuple[str, ...] = ()  # run first (then the rest of the subset), to fail fast


MUTATIONS = [
    # --- persons: selectors ------------------------------------------------------------
    Mutation(
        # person_by_column: person_get and the incentive issuee lookup share it.
        "person_get / incentive issuee lookup: company filter",
        "mobiledb/persons/selectors.py",
        """f"WHERE {quote('company_id')} = %s AND {quote(field.column)} = %s\"""",
        """f"WHERE %s IS NOT NULL AND {quote(field.column)} = %s\"""",
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    Mutation(
        "persons_by_identity: company filter (add/merge path)",
        "mobiledb/persons/selectors.py",
        """f"WHERE {quote('company_id')} = %s AND ({' OR '.join(clauses)})\"""",
        """f"WHERE %s IS NOT NULL AND ({' OR '.join(clauses)})\"""",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company"
            "[x-first-wallet-smartlink]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "person_get_by_external_id: company filter",
        "mobiledb/persons/selectors.py",
        "Person.objects.filter(company=company, external_person_id=external_person_id).first()",
        "Person.objects.filter(external_person_id=external_person_id).first()",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-first-api-update-by-external-id]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "persons_of_company: persons list",
        "mobiledb/persons/selectors.py",
        "return Person.objects.filter(company=company)",
        "return Person.objects.all()",
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "load_custom_field_schema: company filter",
        "mobiledb/persons/selectors.py",
        'fields = CustomField.objects.filter(company=company).prefetch_related("options")',
        'fields = CustomField.objects.all().prefetch_related("options")',
        ("tests/tenancy/test_admin_matrix.py::test_b_staff_lists_and_forms_show_nothing_of_a",),
    ),
    # --- persons: services -------------------------------------------------------------
    Mutation(
        "_external_id_taken: company filter",
        "mobiledb/persons/services.py",
        "queryset = Person.objects.filter(company=company, external_person_id=external_person_id)",
        "queryset = Person.objects.filter(external_person_id=external_person_id)",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-only-api-update-gives-the-external-id]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "person_update: MDN taken, company filter",
        "mobiledb/persons/services.py",
        "Person.objects.filter(company_id=person.company_id, mdn=mdn).exists()",
        "Person.objects.filter(mdn=mdn).exists()",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-only-api-update-gives-the-mdn]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    # --- API views -----------------------------------------------------------------------
    Mutation(
        "custom fields list: company filter",
        "mobiledb/persons/api/views.py",
        'fields = CustomField.objects.filter(company=self.company).prefetch_related("options")',
        'fields = CustomField.objects.all().prefetch_related("options")',
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "custom field detail: company filter",
        "mobiledb/persons/api/views.py",
        "CustomField.objects.filter(company=self.company, pk=field_id).first()",
        "CustomField.objects.filter(pk=field_id).first()",
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    Mutation(
        "subscription lists list: company filter",
        "mobiledb/subscriptions/api/views.py",
        "queryset = SubscriptionList.objects.filter(company=self.company)",
        "queryset = SubscriptionList.objects.all()",
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "broadcasts list: company filter",
        "mobiledb/broadcasts/api/views.py",
        'Broadcast.objects.filter(company=self.company).prefetch_related("source_lists")',
        'Broadcast.objects.all().prefetch_related("source_lists")',
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "broadcast detail: company filter",
        "mobiledb/broadcasts/api/views.py",
        "Broadcast.objects.filter(company=self.company, pk=pk).first()",
        "Broadcast.objects.filter(pk=pk).first()",
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    Mutation(
        "acquisition campaigns list: company filter",
        "campaigns/api/views.py",
        "AcquisitionCampaign.objects.filter(company=self.company)",
        "AcquisitionCampaign.objects.all()",
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    # --- services looked up by id -------------------------------------------------------
    Mutation(
        "subscription_list_get: company filter",
        "mobiledb/subscriptions/services.py",
        "found = SubscriptionList.objects.filter(company=company, pk=pk).first()",
        "found = SubscriptionList.objects.filter(pk=pk).first()",
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    Mutation(
        "acquisition_campaign_get: company filter",
        "campaigns/services/acquisition.py",
        "campaign = AcquisitionCampaign.objects.filter(company=company, pk=pk).first()",
        "campaign = AcquisitionCampaign.objects.filter(pk=pk).first()",
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    Mutation(
        "participant by external id: company filter",
        "campaigns/services/acquisition.py",
        """person = Person.objects.filter(
                company=company, external_person_id=changes["external_person_id"]
            ).first()""",
        """person = Person.objects.filter(
                external_person_id=changes["external_person_id"]
            ).first()""",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-first-participant-add-by-external-id]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    # --- inbound events ----------------------------------------------------------------
    Mutation(
        "inbound STOP/YES/NO person lookup: company filter",
        "campaigns/services/inbound.py",
        "    person = Person.objects.filter(company=company, mdn=event.mdn).first()",
        "    person = Person.objects.filter(mdn=event.mdn).first()",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-first-inbound-stop]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "inbound keyword campaign lookup: company filter",
        "campaigns/services/inbound.py",
        "AcquisitionCampaign.objects.filter(company=company, keyword__iexact=word)",
        "AcquisitionCampaign.objects.filter(keyword__iexact=word)",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[y-first-inbound-keyword]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "inbound already-subscribed person lookup: company filter",
        "campaigns/services/inbound.py",
        "event.person = Person.objects.filter(company=company, mdn=event.mdn).first()",
        "event.person = Person.objects.filter(mdn=event.mdn).first()",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-first-inbound-keyword-already-subscribed]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    # --- callbacks -----------------------------------------------------------------------
    Mutation(
        "registrations_of_company: company filter",
        "callbacks/selectors.py",
        'return CallbackRegistration.objects.filter(company=company).select_related("company")',
        'return CallbackRegistration.objects.all().select_related("company")',
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    Mutation(
        "callback scope list_id check: company filter",
        "mobiledb/subscriptions/selectors.py",
        "SubscriptionList.objects.filter(company=company, pk=pk).exists()",
        "SubscriptionList.objects.filter(pk=pk).exists()",
        (
            "tests/tenancy/test_api_matrix.py::test_b_bodies_naming_a_objects_touch_nothing_of_a"
            "[post config/callbacks ]",
        ),
    ),
    Mutation(
        "consent history: company filter",
        "mobiledb/subscriptions/consent.py",
        "ConsentRecord.objects.filter(company=company).filter(match)",
        "ConsentRecord.objects.filter(match)",
        (
            "tests/consent/test_ledger.py::test_consent_api_shows_only_this_companys_records_of_a_shared_number",
            "tests/consent/test_ledger.py",
        ),
    ),
    Mutation(
        "wallet SmartLink person lookup: company filter",
        "wallet/services/items.py",
        "persons = Person.objects.filter(company_id=campaign.company_id)",
        "persons = Person.objects.all()",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-first-wallet-smartlink]",
        ),
    ),
    # --- wallet templates, stores and location selector --------------------------------
    Mutation(
        "wallet template lookup: campaign filter",
        "wallet/services/templates.py",
        "WalletTemplate.objects.filter(campaign=campaign, kind=kind).first()",
        "WalletTemplate.objects.filter(kind=kind).first()",
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "wallet location selector lookup: campaign filter",
        "wallet/services/location_selector.py",
        "selector = WalletLocationSelector.objects.filter(campaign=campaign).first()",
        "selector = WalletLocationSelector.objects.first()",
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "wallet store list: campaign filter",
        "wallet/selectors.py",
        'stores = WalletLocation.objects.filter(campaign=campaign).order_by("id")',
        'stores = WalletLocation.objects.order_by("id")',
        ("tests/tenancy/test_api_matrix.py::test_b_never_sees_a_trace_of_a_in_its_own_answers",),
    ),
    Mutation(
        "wallet store delete: campaign filter",
        "wallet/services/locations.py",
        "campaign=campaign, pk=parse_id(location_id)",
        "pk=parse_id(location_id)",
        ("tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",),
    ),
    # --- import ------------------------------------------------------------------------
    Mutation(
        "import person lookups (SQLite): company filter",
        "mobiledb/imports/store.py",
        """f"WHERE {_COLUMN['company']} = %s AND {{column}} IN ({{marks}})\"""",
        """f"WHERE %s IS NOT NULL AND {{column}} IN ({{marks}})\"""",
        (
            "tests/tenancy/test_twins.py::test_twin_identity_path_touches_only_its_own_company[x-first-import]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "subscription file person lookups: company filter",
        "mobiledb/imports/subscription_store.py",
        'f"p.company_id = %s AND p.{column} = {match}"',
        'f"%s IS NOT NULL AND p.{column} = {match}"',
        (
            "tests/consent/test_subscription_files.py::test_an_opt_outs_file_leaves_another_companys_twin_number_alone",
            "tests/consent/test_subscription_files.py",
        ),
    ),
    Mutation(
        "subscription file silenced-number lookups (SQLite): company filter",
        "mobiledb/imports/subscription_store.py",
        '"s.company_id = %s AND s.mdn = w.value"',
        '"%s IS NOT NULL AND s.mdn = w.value"',
        (
            "tests/consent/test_subscription_files.py::test_an_opt_outs_file_leaves_another_companys_twin_number_alone",
            "tests/consent/test_subscription_files.py",
        ),
    ),
    # --- API permission and admin scoping ------------------------------------------------
    Mutation(
        # One query for both paths: a credential's first request and a remembered one.
        "API company membership check",
        "vibesweb/api/permissions.py",
        "f\"AND (u.{quote('is_superuser')} OR EXISTS (SELECT 1 FROM \"",
        'f"AND (1 = 1 OR EXISTS (SELECT 1 FROM "',
        (
            "tests/vibesweb/test_conventions.py::test_company_heartbeat_needs_membership[/companies/ACME/heartbeat]",
            "tests/vibesweb/test_conventions.py",
            "tests/tenancy/test_api_matrix.py",
        ),
    ),
    Mutation(
        "GET person read with the membership (RouteRow): the row's company",
        "vibesweb/api/permissions.py",
        "f\"LEFT JOIN {table} ON {table}.{quote('company_id')} = c.id \"",
        'f"LEFT JOIN {table} ON c.id IS NOT NULL "',
        (
            "tests/tenancy/test_api_matrix.py::test_b_on_own_key_with_a_object_ids_answers_404",
            "tests/tenancy/test_api_matrix.py",
            "tests/api_perf/test_person_read_with_membership.py",
        ),
    ),
    Mutation(
        "API company membership check: the member's own membership",
        "vibesweb/api/permissions.py",
        "\"{quote('tenancy_membership')} m WHERE m.company_id = c.id AND m.user_id = u.id)) \"",
        "\"{quote('tenancy_membership')} m WHERE m.company_id = c.id)) \"",
        (
            "tests/tenancy/test_api_matrix.py::test_b_on_a_company_key_answers_404_for_every_route_and_method",
            "tests/tenancy/test_api_matrix.py",
        ),
    ),
    Mutation(
        "admin scope_queryset: company filter",
        "vibesweb/tenancy/scoping.py",
        'return queryset.filter(**{f"{company_path}__in": member_of})',
        "return queryset",
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_on_a_object_urls_is_refused_and_changes_nothing",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
    Mutation(
        "admin foreign-key choices: scoped",
        "vibesweb/tenancy/scoping.py",
        'kwargs["queryset"] = scope_queryset(base, request.user, path)',
        'kwargs["queryset"] = base',
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_lists_and_forms_show_nothing_of_a",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
    Mutation(
        "admin company list filter: choices",
        "vibesweb/tenancy/scoping.py",
        "return [(str(c.pk), c.key) for c in companies_for_user(request.user)]",
        "return [(str(c.pk), c.key) for c in Company.objects.all()]",
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_lists_and_forms_show_nothing_of_a",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
    Mutation(
        "admin company list filter: filtering",
        "vibesweb/tenancy/scoping.py",
        'return queryset.filter(**{f"{path}__id": company_id})',
        "return queryset",
        (
            "tests/tenancy/test_twins.py::test_admin_company_filter_shows_only_that_company_twin[x-first]",
            "tests/tenancy/test_twins.py",
        ),
    ),
    Mutation(
        "admin related list filter choices: company filter",
        "mobiledb/subscriptions/admin.py",
        "rows = rows.filter(company__in=companies_for_user(request.user))",
        "rows = rows",
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_lists_and_forms_show_nothing_of_a",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
    Mutation(
        "admin persons list filter choices: company filter",
        "mobiledb/persons/admin.py",
        "lists = SubscriptionList.objects.filter(company__in=companies_for_user(request.user))",
        "lists = SubscriptionList.objects.all()",
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_lists_and_forms_show_nothing_of_a",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
    Mutation(
        "admin deliveries callback type filter choices: scoped",
        "callbacks/admin.py",
        'scope_queryset(CallbackRegistration.objects.all(), request.user, "company")',
        "CallbackRegistration.objects.all()",
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_filter_choices_come_only_from_b_rows",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
    Mutation(
        "admin imports: company filter",
        "mobiledb/imports/admin.py",
        "return queryset.filter(company__in=self.companies(request))",
        "return queryset",
        (
            "tests/tenancy/test_admin_matrix.py::test_b_staff_on_a_object_urls_is_refused_and_changes_nothing",
            "tests/tenancy/test_admin_matrix.py",
        ),
    ),
]


class StaleMutation(Exception):
    pass


class BrokenRun(Exception):
    """A run that ended without a verdict (pytest's exit status other than 0 or 1)."""


def check(mutation: Mutation, root: Path) -> str:
    """The file's text; StaleMutation unless the snippet occurs in it exactly once."""
    path = root / mutation.file
    if not path.is_file():
        raise StaleMutation(f"{mutation.id}: {mutation.file} no longer exists")
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation.snippet)
    if count != 1:
        raise StaleMutation(
            f"{mutation.id}: the snippet occurs {count} times in {mutation.file}:\n"
            f"{mutation.snippet}"
        )
    return text


@dataclass(frozen=True)
class Outcome:
    failed: bool  # a test or its set-up failed: pytest's exit status 1, nothing else
    seconds: float
    tail: str  # the last lines of the output
    first_failure: str = ""  # the node id of the test that failed


def tests_that_no_longer_exist(mutations: list[Mutation]) -> list[str]:
    """The test ids the mutations name first that the test files no longer hold."""
    named = {test for m in mutations for test in m.tests if "::" in test}
    files = sorted({test.split("::")[0] for test in named})
    if not files:
        return []
    listing = subprocess.run(
        # one -q (addopts adds another): a line per test id
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=",
         "-p", "no:cacheprovider", "-p", "no:xdist", *files],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    collected = set(listing.stdout.splitlines())
    return sorted(test for test in named if test not in collected)


def database_file(copy: Path) -> Path:
    return copy / "test-database.sqlite3"


def run_subset(copy: Path, first: tuple[str, ...], env: dict) -> Outcome:
    """The fast subset in `copy`, `first` (files or test ids) first, stopping at the
    first failure. The copy's test database is kept between its runs (`--reuse-db`):
    mutations change code, never models, and creating it is half a run's time."""
    paths = [*first, *[p for p in FAST_SUBSET if p not in first]]
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider",
               "-p", "no:xdist", "--reuse-db", *paths]  # fmt: skip
    env = {**env, "VIBESWEB_TEST_SQLITE_FILE": str(database_file(copy))}
    started = time.monotonic()
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=1800)
    output = (done.stdout + done.stderr).strip()
    seconds = time.monotonic() - started
    tail = "\n".join(output.splitlines()[-3:])
    if done.returncode not in (0, 1):
        # Not a verdict: a test id that no longer exists, a collection error, an interrupt.
        raise BrokenRun(f"pytest exited with {done.returncode} in {copy}:\n{output[-3000:]}")
    # a failed assertion in a test or in its fixture (an ERROR at set-up) both kill
    failure = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", output, re.MULTILINE)
    return Outcome(done.returncode == 1, seconds, tail, failure[1] if failure else "")


def _copy(copy: Path, env: dict) -> Path:
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    # The copy, not the editable install of the working tree, must be what is imported.
    probe = subprocess.run(
        [sys.executable, "-c", "import mobiledb; print(mobiledb.__file__)"],
        cwd=copy, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip().startswith(str(copy)), probe.stdout
    return copy


def _create_database_file(copy: Path, env: dict) -> None:
    """The copy's test database, migrated, where its runs' `--reuse-db` will find it."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=copy, check=True, capture_output=True, timeout=600,
        env={**env, "DJANGO_SETTINGS_MODULE": "vibesweb.settings_test",
             "DATABASE_URL": f"sqlite:///{database_file(copy)}"},
    )  # fmt: skip


def _run_mutated(copy: Path, mutation: Mutation, env: dict) -> Outcome:
    """The subset's outcome with `mutation` applied to `copy` (killed when a test failed)."""
    target = copy / mutation.file
    original = check(mutation, copy)
    target.write_text(original.replace(mutation.snippet, mutation.replacement, 1))
    try:
        return run_subset(copy, mutation.tests, env)
    finally:
        target.write_text(original)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="ids (substrings) of mutations to run")
    parser.add_argument("--list", action="store_true", help="check and list the mutations")
    parser.add_argument(
        "--keep-env", action="store_true", help="keep DATABASE_URL etc. (default: SQLite)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="mutations run at once, each in a copy of its own",
    )
    args = parser.parse_args()

    try:
        for mutation in MUTATIONS:
            check(mutation, ROOT)
    except StaleMutation as error:
        print(f"STALE MUTATION: {error}", file=sys.stderr)
        return 2
    chosen = [m for m in MUTATIONS if not args.only or any(o in m.id for o in args.only)]
    missing = tests_that_no_longer_exist(chosen)
    if missing:
        # pytest would skip a missing test id silently and run the rest: slower, no error
        print("STALE MUTATION: these tests no longer exist:", *missing, sep="\n  ", file=sys.stderr)
        return 2
    if args.list:
        for mutation in chosen:
            print(f"{mutation.id}  ({mutation.file})")
        print(f"{len(chosen)} mutations")
        return 0

    env = dict(os.environ)
    if not args.keep_env:
        for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"):
            env.pop(name, None)
    try:
        return _run_all(chosen, env, max(1, args.jobs))
    except BrokenRun as error:
        print(f"NO VERDICT: {error}", file=sys.stderr)
        return 2


def _run_all(chosen: list[Mutation], env: dict, jobs: int) -> int:
    with tempfile.TemporaryDirectory(prefix="tenant-mutations-") as folder:
        free: queue.Queue[Path] = queue.Queue()
        for n in range(jobs):
            free.put(_copy(Path(folder) / f"project-{n}", env))

        def in_a_free_copy(run: Callable[[Path], Outcome]) -> Outcome:
            copy = free.get()
            try:
                if not database_file(copy).exists():
                    _create_database_file(copy, env)
                return run(copy)
            finally:
                free.put(copy)

        # The unmutated subset runs beside the first mutations: their verdicts only
        # count once it has passed.
        pool = ThreadPoolExecutor(jobs)
        try:
            baseline = pool.submit(in_a_free_copy, lambda copy: run_subset(copy, (), env))
            outcomes = [
                pool.submit(in_a_free_copy, lambda copy, m=m: _run_mutated(copy, m, env))
                for m in chosen
            ]
            if baseline.result().failed:
                print(
                    f"The unmutated subset fails; fix it first:\n{baseline.result().tail}",
                    file=sys.stderr,
                )
                return 1
            print(
                f"baseline: {' '.join(FAST_SUBSET)} passes in {baseline.result().seconds:.0f} s\n"
            )
            rows = []
            for mutation, future in zip(chosen, outcomes, strict=True):
                outcome = future.result()
                rows.append((mutation, outcome))
                verdict = "killed" if outcome.failed else "SURVIVED"
                line = f"{verdict:8}  {outcome.seconds:5.0f} s  {mutation.id}  ({mutation.file})"
                print(f"{line}\n          by {outcome.first_failure}", flush=True)
        finally:
            # a failed baseline or a run without a verdict stops what has not started
            pool.shutdown(cancel_futures=True)

    survivors = [m for m, outcome in rows if not outcome.failed]
    print("\n| mutation (company filter removed) | file | killed |\n| --- | --- | --- |")
    for mutation, outcome in rows:
        print(f"| {mutation.id} | `{mutation.file}` | {'yes' if outcome.failed else '**no**'} |")
    print(f"\n{len(rows) - len(survivors)} of {len(rows)} mutations killed")
    for mutation, outcome in rows:
        if not outcome.failed:
            print(f"\nSURVIVED: {mutation.id}\n{outcome.tail}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())

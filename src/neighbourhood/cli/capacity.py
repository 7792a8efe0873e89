"""``neighbourhood capacity``: demand and capacity scenarios over the workforce map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from neighbourhood.cli.options import DataOption, JsonOption, check_html_target
from neighbourhood.cli.output import console, figures_table, print_json, progress_bar
from neighbourhood.config import resolve_data_dir

capacity_app = typer.Typer(
    help="Demand and capacity: the workforce map, demand from the refresh, simulated teams.",
    no_args_is_help=True,
)


@capacity_app.command("run")
def run_command(
    scenario: Annotated[
        list[Path],
        typer.Option(
            "--scenario",
            help="A scenario file (TOML); give several to compare them side by side.",
        ),
    ],
    data: DataOption = None,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="Write the comparison as one HTML page here."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate each scenario's neighbourhoods (or Monte Carlo their demand alone), every
    figure a mean over replications with its 95% confidence interval. Scenarios compared
    share their random numbers."""
    from neighbourhood.capacity import scenario as scenario_mod

    data_dir = resolve_data_dir(data)
    scenarios = [scenario_mod.load(path) for path in scenario]
    check_html_target(html_out)
    results, saved = _run_and_keep(data_dir, scenarios, as_json)
    if html_out is not None:
        from neighbourhood.capacity import report_html

        html_out.write_text(report_html.render(results), encoding="utf-8")
    if as_json:
        print_json({"results": results})
        return
    for result in results:
        _print(result)
    console.print(f"Kept for the Capacity scenarios page: {', '.join(p.stem for p in saved)}")
    if html_out is not None:
        console.print(f"Written {html_out}")


@capacity_app.command("backtest")
def backtest_command(
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="The scenario whose services, staff and availability to replay "
            "(default: the defaults, 10 replications).",
        ),
    ] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-simulate the last 12 months of community activity (district nursing and therapy)
    and compare the contacts done each month with those observed: the mean absolute
    percentage error of the replay (referrals as observed that year), and of a forecast
    made a year before (its rates and seasonality) beside it."""
    from neighbourhood.capacity import run
    from neighbourhood.capacity import scenario as scenario_mod

    data_dir = resolve_data_dir(data)
    chosen = (
        scenario_mod.load(scenario)
        if scenario
        else scenario_mod.parse({"schema": scenario_mod.SCHEMA, "name": "Backtest"})
    )
    with progress_bar("Backtest", 1, as_json) as bar:
        result = run.backtest(data_dir, chosen.model_copy(update={"warm_up_days": 56}))
        bar.advance(bar.task_ids[0])
    if as_json:
        print_json(result)
        return
    for label, what in (("replay", "Replay"), ("forecast", "Forecast from a year before")):
        part = result[label]
        rows = [
            (month, f"{sim:,.0f} simulated, {obs:,.0f} observed")
            for month, sim, obs in zip(
                result["months"], part["simulated"], part["observed"], strict=True
            )
        ]
        rows += [
            (f"MAPE, {service.replace('_', ' ')}", f"{x['mape']:.1f}%")
            for service, x in part["services"].items()
        ]
        rows.append(("MAPE, together", f"{part['mape']:.1f}%"))
        console.print(figures_table(f"{what}: contacts a month", rows))


@capacity_app.command("demand")
def demand_command(
    data: DataOption = None,
    months: Annotated[
        int,
        typer.Option("--months", help="Learn from the months before the refresh.", min=1, max=120),
    ] = 12,
    as_json: JsonOption = False,
) -> None:
    """The demand the model starts from: contacts a year by neighbourhood and service type
    (with --json, by segment, cohort and deprivation quintile too, and each service's
    seasonality), learned from the published refresh without people who opted out."""
    from neighbourhood.capacity import demand as demand_mod

    learned = demand_mod.learn(resolve_data_dir(data), months)
    if as_json:
        print_json(
            {
                "as_of": learned.as_of.isoformat(),
                "months": months,
                "rates": learned.rates(),
                "seasonality": learned.seasonality,
            }
        )
        return
    totals: dict[tuple[str, str], float] = {}
    for (n, _seg, _cohort, _q, service), year in learned.contacts.items():
        totals[(n, service)] = totals.get((n, service), 0.0) + year
    people: dict[str, int] = {}
    for (n, *_), count in learned.people.items():
        people[n] = people.get(n, 0) + count
    for n in learned.neighbourhoods:
        rows = [
            (
                "A&E and emergency admissions (what shifts)"
                if service == "hospital"
                else service.replace("_", " "),
                f"{year:,.0f} a year ({1000 * year / people[n]:,.0f} per 1,000 people)",
            )
            for (code, service), year in sorted(totals.items())
            if code == n
        ]
        title = f"{learned.names.get(n, n)} ({n}): {people[n]:,} people, as of {learned.as_of}"
        console.print(figures_table(title, rows))


@capacity_app.command("schema")
def schema_command() -> None:
    """Print the scenario files' JSON Schema (for editors and partners' tools)."""
    from neighbourhood.capacity.scenario import json_schema

    print(json.dumps(json_schema(), indent=2))


def _print(result: dict[str, Any]) -> None:
    for code, figures in result["neighbourhoods"].items():
        title = f"{result['scenario']}: {figures.get('name', code)} ({code})"
        if result["mode"] == "demand":
            rows = [
                (service, f"{x['mean']:.1f} FTE ({x['low']:.1f} to {x['high']:.1f})")
                for service, x in figures["fte_needed"].items()
            ]
        else:
            rows = [
                (
                    service,
                    f"median wait {s['median_wait_days']['mean']:.2f} d, "
                    f"95th {s['p95_wait_days']['mean']:.2f} d, "
                    f"unmet {s['unmet']['mean']:.0f}",
                )
                for service, s in figures["services"].items()
            ]
            if figures.get("unstaffed"):
                console.print(
                    f"[bold]Warning[/bold] {title}: no one the skill mix allows for "
                    f"{', '.join(figures['unstaffed'])}; every such referral waits.",
                    soft_wrap=True,
                )
            busiest = sorted(figures["utilisation"], key=lambda u: -u["mean"])[:3]
            rows += [
                (
                    f"{u['role']} ({u['employer']})",
                    f"{100 * u['mean']:.0f}% busy ({100 * u['low']:.0f}-{100 * u['high']:.0f})",
                )
                for u in busiest
            ]
        console.print(figures_table(title, rows))


def run_examples(data_dir: Path, quiet: bool) -> dict[str, Any]:
    """The demo's capacity step: the example scenarios written beside the data (a user's
    own edits stay), run on the published refresh and kept for the web page."""
    from neighbourhood.capacity import examples
    from neighbourhood.capacity import scenario as scenario_mod

    paths = examples.write(data_dir / "capacity" / "scenarios")
    _, kept = _run_and_keep(data_dir, [scenario_mod.load(p) for p in paths], quiet)
    return {"scenarios": [str(p) for p in paths], "runs": [p.stem for p in kept]}


def _run_and_keep(
    data_dir: Path, scenarios: list[Any], quiet: bool
) -> tuple[list[dict[str, Any]], list[Path]]:
    """Each scenario run on the published refresh (demand learned once for each history
    length, the workforce map read once) and kept for the web page."""
    from neighbourhood.capacity import demand as demand_mod
    from neighbourhood.capacity import results as kept
    from neighbourhood.capacity import run as capacity

    learned = {m: demand_mod.learn(data_dir, m) for m in {s.history_months for s in scenarios}}
    staff = capacity.workforce(data_dir) if any(s.mode == "simulate" for s in scenarios) else {}
    results = []
    for s in scenarios:
        demand = learned[s.history_months]
        size = (len(s.neighbourhoods) or len(demand.neighbourhoods)) * s.replications
        with progress_bar(f"Scenario {s.name}", size, quiet) as bar:
            task = bar.task_ids[0]

            def advance(k: int, bar: Any = bar, task: Any = task) -> None:
                bar.advance(task, k)

            results.append(capacity.run(data_dir, s, advance, demand, staff))
    return results, [kept.save(data_dir, result) for result in results]


def print_examples(compared: dict[str, Any]) -> None:
    console.print(
        f"Capacity: {len(compared['runs'])} example scenarios simulated and kept for the "
        "'Capacity scenarios' page; edit them ("
        + ", ".join(compared["scenarios"])
        + ") and run 'neighbourhood capacity run --scenario FILE'.",
        soft_wrap=True,
    )

"""``neighbourhood evaluate``: did the model of care work, and for whom?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from neighbourhood.cli.options import DataOption, HtmlOption, JsonOption, check_html_target
from neighbourhood.cli.output import console, figures_table, print_json, progress_bar
from neighbourhood.config import resolve_data_dir


def evaluate_command(
    protocol: Annotated[
        Path,
        typer.Option(
            "--protocol",
            help="The analysis protocol (TOML or JSON; see docs/reference/evaluation.md).",
        ),
    ],
    data: DataOption = None,
    html_out: HtmlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run an analysis protocol on the published planning tables: a matched comparison,
    staggered difference-in-differences and interrupted time series, with the naive
    before-and-after figure beside them (labelled as biased), for every outcome and
    subgroup, under disclosure control. The result is kept, with the protocol's digest,
    for the Evaluation page."""
    from neighbourhood.evaluate import protocol as protocol_mod
    from neighbourhood.evaluate import results
    from neighbourhood.evaluate.run import evaluate
    from neighbourhood.evaluate.study import open_study

    data_dir = resolve_data_dir(data)
    chosen, text = protocol_mod.load(protocol)
    check_html_target(html_out)
    log = results.protocol_log(data_dir)
    protocol_mod.check_amended(chosen, log)
    with progress_bar("Evaluating", 1, as_json) as bar:
        study = open_study(data_dir)
        result = evaluate(study, chosen, text)
        bar.advance(bar.task_ids[0])
    saved = results.save(data_dir, result)
    protocol_mod.record_run(chosen, log)
    if html_out is not None:
        from neighbourhood.evaluate import report_html

        html_out.write_text(report_html.render(result), encoding="utf-8")
    if as_json:
        print_json(result | {"id": saved.stem})
        return
    _print(result)
    console.print(f"Kept for the Evaluation page as {saved.stem}")
    if html_out is not None:
        console.print(f"Written {html_out}")


def _print(result: dict[str, Any]) -> None:
    m = result["matching"]
    rows = [
        ("Protocol", f"{result['protocol']['name']} ({result['protocol']['digest'][:12]})"),
        ("Data", result["data"]["source"]),
        ("Neighbourhoods live", f"{result['data']['live']} of {result['data']['neighbourhoods']}"),
        ("Enrolled people matched", _n(m["treated"])),
        ("Comparators", _n(m["comparators"])),
        ("Largest standardised difference after matching", f"{m['largest_difference_after']}"),
    ]
    console.print(figures_table("Evaluation", rows))
    for outcome in result["outcomes"]:
        if not outcome["available"]:
            console.print(f"{outcome['label']}: not available ({outcome['reason']})")
            continue
        lines = [
            (label, _estimate(outcome["designs"].get(key)))
            for key, label in (
                ("matched", "Matched comparison"),
                ("staggered_did", "Staggered DiD"),
                ("its", "Interrupted time series"),
                ("naive", "Before and after (biased)"),
            )
            if key in outcome["designs"]
        ]
        console.print(figures_table(f"{outcome['label']}: rate ratio (95% CI)", lines))


def _estimate(e: dict[str, Any] | None) -> str:
    if not e or e.get("ratio") is None:
        return str((e or {}).get("note", "no estimate"))
    return f"{e['ratio']:.3f} ({e['low']:.3f} to {e['high']:.3f}), p={e['p']:.3g}"


def _n(x: int | None) -> str:
    return "fewer than 8" if x is None else f"{x:,}"

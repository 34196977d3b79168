"""Tables and figures of the experiment grid beside the paper's numbers (NumPy and matplotlib only).

The chapters on ablations and evaluation call these on the run files that
:mod:`rarunet_lib.experiments` writes (``results/<profile>/*.json``), as
``from rarunet_lib import report; report.table4_rows(results)``.  By idea:

:mod:`~rarunet_lib.report.stats`
    :class:`Stat` over seeds, :func:`fmt`, :func:`num`, :func:`paired_gain`, :func:`sign_test`.
:mod:`~rarunet_lib.report.tables`
    The paper's Tables 1, 2-3, 4 and 5 beside ours, as rows, Markdown and figures.
:mod:`~rarunet_lib.report.adl_diagnostics`
    What ADL left out, and every ADL run against its partner without ADL.
:mod:`~rarunet_lib.report.adl_rankings`
    How well each ranking finds the noisy masks (ROC-AUC, AP per epoch), loss against
    mask size, and the verdict of the ADL variants against no ADL and their random control.
:mod:`~rarunet_lib.report.stability`
    How settled the runs are at their end.
:mod:`~rarunet_lib.report.realism`
    The phantom-to-real transfer of the realism study, per phantom and over seeds.

A table's cell reads its runs by run id (:mod:`~rarunet_lib.report.runs`).
Per-slice Dice of a prediction (``worst_slices``) lives in :mod:`rarunet_lib.metrics`.
"""

from .adl_diagnostics import (
    ADL_PAIR_MEASURES,
    adl_activity,
    adl_exclusion_sizes,
    adl_pairs,
    plot_adl_pairs,
    size_rank,
)
from .adl_rankings import (
    ADL_ARMS,
    RANKING_LABELS,
    adl_arms,
    adl_verdict,
    exclusion_persistence,
    loss_size_points,
    plot_loss_vs_size,
    plot_ranking_curves,
    ranking_curves,
    ranking_summary,
    rescore,
    study_summary,
)
from .realism import (
    REALISM_LABELS,
    REALISM_MEASURES,
    load_realism_runs,
    realism_ablation,
    realism_ablation_table,
    realism_arm,
    realism_arms,
    realism_rows,
    realism_table,
)
from .stability import late_swing, plot_stability, stability_summary
from .stats import Stat, fmt, num, paired_gain, sign_test, stat
from .tables import (
    TABLE4_LABELS,
    markdown_table,
    plot_curves,
    plot_table4,
    plot_table5,
    profile_note,
    table1_rows,
    table4_rows,
    table4_summary,
    table5_rows,
    table23_rows,
)

__all__ = [
    "Stat",
    "stat",
    "fmt",
    "num",
    "TABLE4_LABELS",
    "paired_gain",
    "table4_rows",
    "table5_rows",
    "table1_rows",
    "table23_rows",
    "markdown_table",
    "plot_table4",
    "plot_table5",
    "plot_curves",
    "profile_note",
    "table4_summary",
    "late_swing",
    "stability_summary",
    "plot_stability",
    "adl_activity",
    "size_rank",
    "adl_exclusion_sizes",
    "adl_pairs",
    "sign_test",
    "ADL_PAIR_MEASURES",
    "plot_adl_pairs",
    "RANKING_LABELS",
    "ranking_curves",
    "ranking_summary",
    "plot_ranking_curves",
    "loss_size_points",
    "exclusion_persistence",
    "plot_loss_vs_size",
    "ADL_ARMS",
    "adl_arms",
    "adl_verdict",
    "study_summary",
    "rescore",
    "REALISM_MEASURES",
    "REALISM_LABELS",
    "load_realism_runs",
    "realism_table",
    "realism_ablation",
    "realism_ablation_table",
    "realism_arm",
    "realism_arms",
    "realism_rows",
]

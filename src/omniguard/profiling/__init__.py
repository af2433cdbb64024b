"""Joint user profiling: federated segments and propensity models with differential privacy.

``models`` holds the numpy training loops, ``federated`` the job spec, the partner-side gates and
the Flower apps, ``dp`` the accounting, the budget ledger and OpenDP segment releases.
"""

"""Theory-versus-simulation checks with the tolerances the report states.

Where an overlap is identifiable it must match the exact optimum at that
``d``. In phase 1 (dilated, ``tau >= 0.25``) that is ``c, m, q, b``
within 0.05 and ``omega`` within 5% relative. In phase 2 and on the
linear schedule at ``t > 0`` it is ``c, m, q`` within 0.05, because ``b``
and ``omega`` do not matter once ``tanh`` saturates. At time 0 only
``m*tanh(b)`` is checked, within 0.05. The
dilated sampler's ``p_hat`` must be within 0.03 of the exact value of the
same sampler, ``M(end)`` within 5% and ``sigma2_hat`` within 10%.
"""

ABSOLUTE = "absolute"
RELATIVE = "relative"


def _rule(schedule, quantity, time):
    """Return ``(kind, tolerance)`` or ``None`` where nothing is checked."""
    if quantity in ("p_hat", "sigma2_hat", "M"):
        if schedule != "dilated":
            return None
        return {"p_hat": (ABSOLUTE, 0.03), "M": (RELATIVE, 0.05),
                "sigma2_hat": (RELATIVE, 0.10)}[quantity]
    if time == 0:
        return (ABSOLUTE, 0.05) if quantity == "m_tanh_b" else None
    phase_one = schedule == "dilated" and time <= 1.0
    if phase_one:
        if time < 0.25:
            return None
        if quantity == "omega":
            return (RELATIVE, 0.05)
        return (ABSOLUTE, 0.05) if quantity in ("c", "m", "q", "b") else None
    return (ABSOLUTE, 0.05) if quantity in ("c", "m", "q") else None


def evaluate(records):
    """Return one row per checked record with its error and verdict."""
    rows = []
    for record in records:
        rule = _rule(record["schedule"], record["quantity"], record["time"])
        if rule is None or record["simulation"] is None or record["theory"] is None:
            continue
        kind, tolerance = rule
        error = abs(record["simulation"] - record["theory"])
        if kind == RELATIVE:
            error /= abs(record["theory"])
        rows.append({**record, "kind": kind, "tolerance": tolerance,
                     "error": error, "passed": error <= tolerance})
    return rows


def summarize(rows):
    """Worst error per (schedule, d, quantity), as a list of dicts."""
    worst = {}
    for row in rows:
        key = (row["schedule"], row["d"], row["quantity"])
        if key not in worst or row["error"] > worst[key]["error"]:
            worst[key] = row
    return [worst[key] for key in sorted(worst)]

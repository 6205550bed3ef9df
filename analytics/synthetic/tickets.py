"""Tickets: compound-month counts drawn from the rates, then one row per ticket.

The demo district's tickets (`draw`): a compound's expected count in a month is households x
persistent rate x category seasonality x shock x noise x a little yearly growth x the month's day
weights, scaled to about `TICKETS_PER_YEAR`; each ticket gets a day (weekends, holidays, Spring
Festival), an hour, a category, and a small chance of being invalid or naming no compound.
`ticket_table` adds ids, text, titles, addresses, due and closing times, response, resolution
and satisfaction (by month and subdistrict: analytics.synthetic.service), handling unit and
caller. Simulated districts (`sim_ticket_frame`) place tickets uniformly in their month, with
plainer text.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.synthetic import service, texts
from analytics.synthetic.addresses import DISTRICT_PREFIXES, addresses, sim_places
from analytics.synthetic.callers import phones, repeat_roots, sim_callers
from analytics.synthetic.categories import CATEGORIES, SIM_CATEGORIES, category_table, sim_category_cum
from analytics.synthetic.rates import (
    MONTH_NOISE_SHAPE,
    OLD_RATE,
    REPEAT_BETA,
    RESOLVE_BETA,
    SHOCK_PROB,
    SHOCK_RANGE,
    TYPE_RATE,
    half_year_shocks,
    kind_multiplier,
    month_noise,
    propensity,
)
from analytics.synthetic.seasons import day_calendar, days_in_months, hours
from analytics.synthetic.strings import NULL_STRING, digits, join, pool, where

# the demo district
START = dt.date(2022, 1, 1)
END = dt.date(2024, 6, 30)  # last day with tickets
N_MONTHS = 30
TICKETS_PER_YEAR = 350_000
YEARLY_GROWTH = 0.02  # the hotline gets a little busier every year
INVALID_SHARE = 0.03
UNMATCHABLE_SHARE = 0.05
SATISFACTION_ASKED = 0.65
SATISFACTION_LABELS = ("满意", "基本满意", "不满意")
OPEN_AT_END_DAYS = 10  # tickets this close to END may still be open
URGENT_DUE_HOURS = 24
NORMAL_DUE_HOURS = 120

# simulated districts
VALID_SHARE = 0.95
REOPEN_SHARE = 0.03
SIM_SATISFACTION_ASKED = 0.6
DUE_DAYS = 7
MEAN_DAYS_TO_CLOSE = 3.0


def expand_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(compound index, month index) per ticket from a [compound, month] count matrix, compound-major."""
    n_c, n_m = counts.shape
    flat = counts.ravel()
    c_idx = np.repeat(np.repeat(np.arange(n_c), n_m), flat)
    m_idx = np.repeat(np.tile(np.arange(n_m), n_c), flat)
    return c_idx, m_idx


def draw(
    rng: np.random.Generator, compounds: pd.DataFrame, scale: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All tickets (before the task forces' effect) and the compound truth table."""
    n = len(compounds)
    cal = day_calendar(START, END)
    month_weight = cal.groupby("month")["weight"].sum().to_numpy()
    rate = propensity(rng, n)
    rate *= kind_multiplier(compounds["type"], compounds["is_old"], TYPE_RATE, OLD_RATE)
    comp_group, cum_probs, season_mult = category_table(compounds, N_MONTHS)
    half = np.arange(N_MONTHS) // 6
    _, shock = half_year_shocks(rng, n, half.max() + 1, SHOCK_PROB, SHOCK_RANGE)
    noise = month_noise(rng, MONTH_NOISE_SHAPE, (n, N_MONTHS))
    growth = (1 + YEARLY_GROWTH) ** (np.arange(N_MONTHS) / 12)
    lam = (
        compounds["households"].to_numpy()[:, None]
        * rate[:, None]
        * season_mult[comp_group]
        * shock[:, half]
        * noise
        * growth[None, :]
        * month_weight[None, :]
    )
    lam *= scale * TICKETS_PER_YEAR * N_MONTHS / 12 / lam.sum()
    counts = rng.poisson(lam)
    comp, month = expand_counts(counts)
    total = len(comp)
    # day within the month, in proportion to the day weights (weekends, holidays, Spring Festival)
    day = days_in_months(rng, cal, month)
    hour = hours(rng, total)
    seconds = hour * 3600 + rng.integers(0, 3600, total)
    created = cal["day"].to_numpy()[day] + seconds.astype("timedelta64[s]")
    u = rng.random(total)
    category = (u[:, None] > cum_probs[comp_group[comp], month]).sum(axis=1)
    category = np.minimum(category, len(CATEGORIES) - 1)
    tickets = pd.DataFrame(
        {
            "comp": comp,
            "month": month,
            "created_at": created,
            "category": category,
            "is_valid": rng.random(total) >= INVALID_SHARE,
            "matchable": rng.random(total) >= UNMATCHABLE_SHARE,
        }
    )
    truth = compounds[["compound_id"]].assign(rate=rate)
    return tickets, truth


def ticket_table(
    rng: np.random.Generator,
    tickets: pd.DataFrame,
    compounds: pd.DataFrame,
    aliases: pd.DataFrame,
    batch_id: int,
    side: np.random.Generator,
    garbled_table: pd.DataFrame,
) -> pa.Table:
    """The tickets table rows (with the caller's digits in `phone`, hashed on insert).

    `side` is the demo's second random stream: the service rates and which unmatched tickets
    carry a garbled address (`garbled_table`, analytics.synthetic.garbled) draw from it, so
    tuning them leaves what `rng` draws (counts, times, categories, callers) as it was."""
    tickets = tickets.sort_values(["created_at", "comp"], kind="stable").reset_index(drop=True)
    total = len(tickets)
    comp = tickets["comp"].to_numpy()
    cat = tickets["category"].to_numpy()
    created = tickets["created_at"].to_numpy().astype("datetime64[s]")
    # ids like LS2023030100042: date + running number within the day
    day = created.astype("datetime64[D]")
    first_of_day = np.searchsorted(day, day, side="left")
    months = day.astype("datetime64[M]")
    yyyymmdd = (
        (months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10000
        + (months.astype(np.int64) % 12 + 1) * 100
        + (day - months).astype(np.int64)
        + 1
    )
    ticket_id = join("LS", digits(yyyymmdd * 100000 + np.arange(total) - first_of_day + 1))

    address, text_place = addresses(rng, tickets, compounds, aliases, side, garbled_table)
    category_names = [c[0] for c in CATEGORIES]
    content = texts.content(rng, cat, text_place, category_names)
    matchable = tickets["matchable"].to_numpy()
    title = texts.titles(rng, cat, pool(compounds["name"], comp), matchable, category_names)

    # closing, due, satisfaction, resolution: compound propensities + category urgency, shifted
    # by month and subdistrict (analytics.synthetic.service, drawn from `side`)
    n_comp = len(compounds)
    resolve_p = rng.beta(*RESOLVE_BETA, n_comp)  # mean ~0.82
    repeat_p = rng.beta(*REPEAT_BETA, n_comp)
    urgent = np.array([c[3] for c in CATEGORIES])[cat]
    due = created + np.where(urgent, URGENT_DUE_HOURS, NORMAL_DUE_HOURS).astype("timedelta64[h]")
    close_hours = rng.gamma(1.4, np.where(urgent, 14.0, 55.0))
    closed = created + (close_hours * 3600).astype("timedelta64[s]")
    end = np.datetime64(END) + np.timedelta64(1, "D")
    sub = service.subdistrict_index(compounds["subdistrict"])[comp]
    month = tickets["month"].to_numpy()
    unanswered = service.unanswered(side, sub, month, START.month, N_MONTHS)
    still_open = (closed >= end) & (created >= end - np.timedelta64(OPEN_AT_END_DAYS, "D"))
    still_open |= unanswered
    resolve_p = service.resolve_probability(side, resolve_p[comp], sub, month, START.month, N_MONTHS)
    resolved = rng.random(total) < resolve_p
    asked = (rng.random(total) < SATISFACTION_ASKED) & ~still_open
    u = rng.random(total)
    sat_idx = service.satisfaction_level(resolved, u)
    reopened = ~resolved & (rng.random(total) < 0.1) & ~still_open
    status = np.where(unanswered, 3, np.where(still_open, 1, np.where(reopened, 2, 0)))

    # handling unit: the category's primary unit (70%) or its secondary; '{街道}' -> the office
    units = [c[4] for c in CATEGORIES]
    unit_list = [u[0] for u in units] + [u[1] for u in units]
    unit_idx = np.where(rng.random(total) < 0.7, cat, cat + len(CATEGORIES))
    is_office = np.array([u == "{街道}" for u in unit_list])[unit_idx]
    handling_unit = where(
        is_office, pool([f"{s}办事处" for s in compounds["subdistrict"]], comp), pool(unit_list, unit_idx)
    )

    # callers: a compound's frequent callers, or someone new (numbers are hashed on insert)
    phone = phones(rng, comp, repeat_p)

    return pa.table(
        {
            "ticket_id": ticket_id,
            "created_at": pa.array(created, pa.timestamp("s")),
            "closed_at": pa.array(closed, pa.timestamp("s"), mask=still_open),
            "due_at": pa.array(due, pa.timestamp("s")),
            "title": title,
            "content": content,
            "category": pool([c[0] for c in CATEGORIES], cat),
            "address": address,
            "compound_id": where(matchable, pool(compounds["compound_id"], comp), NULL_STRING),
            "match_score": pa.array(np.ones(total), mask=~matchable),
            "match_method": where(matchable, "demo", NULL_STRING),
            "phone": digits(phone),
            "satisfaction": where(asked, pool(SATISFACTION_LABELS, sat_idx), NULL_STRING),
            "satisfied": pa.array(sat_idx < 2, mask=~asked),
            "resolved": pa.array(resolved, mask=still_open),
            "status": pool(("已办结", "办理中", "重办后办结", service.UNRESPONDED_STATUS), status),
            "handling_unit": handling_unit,
            "is_valid": pa.array(tickets["is_valid"].to_numpy()),
            "reopened": pa.array(reopened),
            "batch_id": pa.array(np.full(total, batch_id, dtype=np.int64)),
        }
    )


def sim_ticket_frame(
    rng: np.random.Generator,
    comp: pd.DataFrame,
    counts: np.ndarray,
    periods: list[pd.Period],
    repeat_p: np.ndarray,
    unresolved_p: np.ndarray,
    dissat_p: np.ndarray,
    offset: int,
    seed: int,
    end_ts: pd.Timestamp,
    batch_id: int,
    with_text: bool,
) -> pd.DataFrame:
    """Ticket rows of a chunk of a simulated district's compounds (`offset` numbers them district-wide)."""
    c_idx, m_idx = expand_counts(counts)
    total = len(c_idx)
    month_start = np.array([p.to_timestamp().value for p in periods], dtype=np.int64)
    month_len = np.array(
        [(p + 1).to_timestamp().value - p.to_timestamp().value for p in periods], dtype=np.int64
    )
    created = month_start[m_idx] + (rng.random(total) * month_len[m_idx]).astype(np.int64)
    created = (created // 1_000_000_000) * 1_000_000_000  # whole seconds
    order = np.lexsort((created, c_idx))
    c_idx, m_idx, created = c_idx[order], m_idx[order], created[order]

    # category by month of year (heating only Nov-Mar)
    cum = sim_category_cum(periods)
    cat = (rng.random(total)[:, None] > cum[m_idx]).sum(axis=1)
    cat = np.minimum(cat, len(SIM_CATEGORIES) - 1)
    phrase = rng.integers(0, 3, total)
    building = rng.integers(1, 21, total)

    # repeat calls: a repeat ticket copies caller, category and text of the compound's previous root
    root = repeat_roots(rng, c_idx, repeat_p)
    cat, phrase, building = cat[root], phrase[root], building[root]
    global_idx = offset + np.arange(total)
    caller = sim_callers(seed, offset + root)

    closed_delay = rng.exponential(MEAN_DAYS_TO_CLOSE * 86400, total).astype(np.int64) * 1_000_000_000
    closed = created + closed_delay
    still_open = (closed >= end_ts.value) | (rng.random(total) < 0.01)
    due = created + DUE_DAYS * 86400 * 1_000_000_000
    resolved = np.where(still_open, None, rng.random(total) >= unresolved_p[c_idx]).astype(object)
    asked = ~still_open & (rng.random(total) < SIM_SATISFACTION_ASKED)
    sat = rng.random(total) >= dissat_p[c_idx]
    satisfied = np.where(asked, sat, None).astype(object)
    label = np.where(asked, np.where(sat, "满意", "不满意"), None).astype(object)
    cat_names = np.array([c[0] for c in SIM_CATEGORIES], dtype=object)

    frame = pd.DataFrame(
        {
            "ticket_id": np.char.add(f"S{seed}-", np.char.zfill(global_idx.astype(str), 8)),
            "created_at": pd.to_datetime(created),
            "closed_at": pd.to_datetime(closed),
            "due_at": pd.to_datetime(due),
            "category": cat_names[cat],
            "category_raw": cat_names[cat],
            "category_source": "given",
            "compound_id": comp["compound_id"].to_numpy()[c_idx],
            "match_method": "id",
            "match_score": 1.0,
            "caller_hash": caller,
            "satisfaction": label,
            "satisfied": satisfied,
            "resolved": resolved,
            "status": np.where(still_open, "办理中", "已办结"),
            "is_valid": rng.random(total) < VALID_SHARE,
            "reopened": rng.random(total) < REOPEN_SHARE,
            "batch_id": batch_id,
        }
    )
    frame.loc[still_open, "closed_at"] = pd.NaT
    if with_text:
        places = sim_places(comp["name"].to_numpy()[c_idx], building)
        phrases = np.array([[p for p in c[3]] for c in SIM_CATEGORIES], dtype=object)[cat, phrase]
        frame["content"] = [p + c for p, c in zip(places, phrases, strict=True)]
        frame["title"] = cat_names[cat]
        frame["address"] = [DISTRICT_PREFIXES[0] + p for p in places]
    return frame

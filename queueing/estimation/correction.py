"""How far the recent quotes have been off, learned online, and applied only when the
evidence is plain.

The quotes judged are the uncorrected ones (Ticket.quoted_base_s), so the correction
never learns from itself. A quote is judged once its time has passed, issued_at +
quote ≤ now: by then the ticket was either called (its error is known exactly) or is
still waiting (the quote was short, by at least the time since). Judging every quote
at that moment, instead of waiting for the call, is fair to both directions: an early
call and a late one are both known by then. Tickets that left without a call are not
judged.

Visitors who queue together share one fate (the same clerks, the same slow case
ahead of them), so their errors are one piece of evidence, not forty. The judged
quotes are therefore grouped by half hour of issue, each block summed up by its
median log ratio (actual + 1 min) ÷ (quote + 1 min) (a still-waiting ticket at its
lower bound), and the correction applies only when the blocks of the business day so
far lean one way beyond chance (a two-sided sign test over the blocks, p < MAX_P, at
least MIN_BLOCKS of them): the median of the block medians, clipped to ±30 %. A hall
whose queue is modelled right, or whose luck turns from hour to hour, gets none (an
earlier version that counted tickets instead of blocks chased one bad hour of a
long-tailed day: docs/benchmarks.md); a day on which every service runs slower than
its history gets one after three hours or so.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

from queueing.models import Hall, Ticket

WINDOW = dt.timedelta(hours=10)  # the business day so far
BLOCK_S = 30 * 60
MIN_QUOTE_S = 120  # a quote of a minute or two says little about the model
PAD_S = 60.0
DEAD_BAND = 0.05  # |log ratio| within this is neither long nor short
MIN_PER_BLOCK = 3
MIN_BLOCKS = 6
MAX_P = 0.05
CLIP = math.log(1.3)


def learn_correction(hall: Hall, *, at: dt.datetime) -> float:
    """The factor to multiply the remaining simulated wait by (1.0: none). One query."""
    rows = Ticket.objects.filter(
        hall=hall,
        business_date=hall.business_date(at),
        issued_at__gte=at - WINDOW,
        issued_at__lt=at,
        quoted_base_s__gte=MIN_QUOTE_S,
    ).values_list("issued_at", "called_at", "ended_at", "quoted_base_s")
    blocks: dict[int, list[float]] = {}
    for issued, called, ended, quote in rows:
        if quote is None or issued + dt.timedelta(seconds=quote) > at:
            continue  # not judged yet
        if called is not None and called <= at:
            waited = (called - issued).total_seconds()
        elif ended is not None and ended <= at:
            continue  # left without a call
        else:
            waited = (at - issued).total_seconds()  # still waiting: at least this
        if waited < 0 or quote < 0:
            continue  # a row out of time order (called before issued): no evidence
        block = int(issued.timestamp() // BLOCK_S)
        blocks.setdefault(block, []).append(math.log((waited + PAD_S) / (quote + PAD_S)))
    medians = [statistics.median(r) for r in blocks.values() if len(r) >= MIN_PER_BLOCK]
    return correction_factor(medians)


def correction_factor(block_ratios: list[float]) -> float:
    """The clipped median of the blocks' log ratios, if they lean one way beyond
    chance."""
    long = sum(r > DEAD_BAND for r in block_ratios)
    short = sum(r < -DEAD_BAND for r in block_ratios)
    if long + short < MIN_BLOCKS or sign_test_p(long, short) >= MAX_P:
        return 1.0
    return math.exp(max(-CLIP, min(CLIP, statistics.median(block_ratios))))


def sign_test_p(a: int, b: int) -> float:
    """Two-sided binomial test of a against b at even odds (exact, by the smaller)."""
    n, k = a + b, min(a, b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)

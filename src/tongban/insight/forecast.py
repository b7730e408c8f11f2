"""Forecasts of daily volume (cases submitted, hotline work orders received) for the cockpit.

A government office's daily volume has a strong weekly rhythm (little or nothing at weekends),
so the model is exponential smoothing with an additive weekly season and no trend (ETS(A,N,A),
statsmodels' Holt-Winters) on the last year of daily counts. A damped additive trend was measured
too: on the real logs under ../shared/data it was no better (MASE over 12 origins 0.75 against
0.68 on the permit receipts, 0.59 against 0.58 on the message board) and five times slower to
fit. Every forecast is judged before it is shown: a rolling-origin backtest refits at several
past origins and forecasts the days after each, and the error is set beside the error of the
seasonal-naive forecast ("the same day last week") over the same origins, so a reader sees
whether the model earns its keep.

Errors: MASE (mean absolute error scaled by the in-sample error of the seasonal-naive forecast at
each origin; below 1 is better than "last week" was in the training data) and WAPE (absolute
errors over actual volume, in %). sMAPE is not used: on days an office is closed the actual is 0,
and any forecast above 0 scores the maximum 200 % however small it is.

Too little history: under MIN_ETS_DAYS plus the horizon (so that at least one backtest origin can
judge the model) the seasonal-naive forecast is used instead, and the page says so; under one
season there is no forecast at all. Pure functions over lists of floats; no
Django, no database, so the page and the scheduled job share one tested core.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

SEASON = 7  # days: the weekly rhythm of offices and citizens
HORIZON = 14  # days ahead the cockpit shows (the next two weeks)
MIN_ETS_DAYS = 4 * SEASON  # fewer days than this: the seasonal model is not fitted
WINDOW = 365  # days of history the model is fitted on (older days change little and cost time)
MAX_ORIGINS = 8  # backtest origins, one week apart, the newest first
ETS = "ets"
SEASONAL_NAIVE = "seasonal_naive"
NONE = "none"


@dataclass
class Backtest:
    """Rolling-origin errors of one method; None where there were no origins to test on."""

    origins: int = 0
    mase: float | None = None
    wape: float | None = None  # %


@dataclass
class Forecast:
    method: str  # ETS, SEASONAL_NAIVE (history too short for the model) or NONE (too short for any)
    history_days: int
    values: list[float] = field(default_factory=list)  # HORIZON daily figures from the day after the last
    backtest: Backtest = field(default_factory=Backtest)  # of `method`
    baseline: Backtest = field(default_factory=Backtest)  # of the seasonal-naive forecast, same origins


def seasonal_naive(history: list[float], horizon: int, season: int = SEASON) -> list[float]:
    """Each day as the same weekday of the last week seen."""
    if len(history) < season:
        raise ValueError("seasonal naive needs one full season")
    last = history[-season:]
    return [float(last[i % season]) for i in range(horizon)]


def ets(history: list[float], horizon: int, season: int = SEASON) -> list[float]:
    """Exponential smoothing with an additive season and no trend, fitted on the last WINDOW days;
    counts cannot go below zero, so neither does the forecast."""
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = np.asarray(history[-WINDOW:], dtype=float)
    if len(y) < MIN_ETS_DAYS:
        raise ValueError("too short for the seasonal model")
    if np.ptp(y) == 0:  # a flat series: nothing to estimate (and the optimiser divides by zero)
        return [float(y[-1])] * horizon
    with warnings.catch_warnings():
        # Convergence notes on short or sparse series: the fit is still usable, and the backtest
        # shows how good it is.
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            y,
            trend=None,
            seasonal="add",
            seasonal_periods=season,
            initialization_method="estimated",
        ).fit()
        predicted = model.forecast(horizon)
    return [max(0.0, float(v)) if math.isfinite(v) else 0.0 for v in predicted]


def _method_for(days: int, horizon: int) -> str:
    """The model only when at least one backtest origin can judge it (its training days and the
    horizon after them): a forecast is never shown without its error."""
    if days >= MIN_ETS_DAYS + horizon:
        return ETS
    if days >= SEASON:
        return SEASONAL_NAIVE
    return NONE


def _predict(method: str, history: list[float], horizon: int) -> list[float]:
    return ets(history, horizon) if method == ETS else seasonal_naive(history, horizon)


def mase(
    actual: list[float], predicted: list[float], training: list[float], season: int = SEASON
) -> float | None:
    """Mean absolute error over the in-sample mean absolute error of the seasonal-naive forecast;
    None when the training series repeats itself exactly (nothing to scale by)."""
    scale_terms = [abs(training[i] - training[i - season]) for i in range(season, len(training))]
    scale = sum(scale_terms) / len(scale_terms) if scale_terms else 0.0
    if scale == 0:
        return None
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual) / scale


def wape(actual: list[float], predicted: list[float]) -> float | None:
    """Weighted absolute percentage error in %: the absolute errors over the actual volume; None
    when there was no volume at all."""
    volume = sum(abs(a) for a in actual)
    if volume == 0:
        return None
    return 100 * sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / volume


def backtest(
    history: list[float],
    method: str,
    *,
    horizon: int = HORIZON,
    max_origins: int = MAX_ORIGINS,
    step: int = SEASON,
) -> tuple[Backtest, Backtest]:
    """Rolling origin: at each origin (the newest leaves exactly `horizon` days to test, the others
    one `step` earlier each), fit on the days before it and forecast `horizon` days. Returns the
    mean errors of `method` and of the seasonal-naive forecast over the same origins; an origin
    whose training part is too short for `method` is not used."""
    need = MIN_ETS_DAYS if method == ETS else SEASON
    found: dict[str, list[list[float]]] = {"model": [], "naive": []}
    origin = len(history) - horizon
    origins = 0
    while origins < max_origins and origin >= need:
        training, actual = history[:origin], history[origin : origin + horizon]
        for key, predicted in (
            ("model", _predict(method, training, horizon)),
            ("naive", seasonal_naive(training, horizon)),
        ):
            scaled, weighted = mase(actual, predicted, training), wape(actual, predicted)
            found[key].append(
                [math.nan if scaled is None else scaled, math.nan if weighted is None else weighted]
            )
        origins += 1
        origin -= step
    return _mean(found["model"], origins), _mean(found["naive"], origins)


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _mean(rows: list[list[float]], origins: int) -> Backtest:
    if not rows:
        return Backtest()
    scaled = [r[0] for r in rows if not math.isnan(r[0])]
    weighted = [r[1] for r in rows if not math.isnan(r[1])]
    return Backtest(
        origins=origins,
        mase=round(sum(scaled) / len(scaled), 3) if scaled else None,
        wape=round(sum(weighted) / len(weighted), 1) if weighted else None,
    )


def forecast(history: list[float], *, horizon: int = HORIZON) -> Forecast:
    """The next `horizon` days after a daily series (oldest first, every day present, zeros
    included), with the method's backtest and the seasonal-naive baseline's. Leading days before
    the first non-zero count are not history (the office or the system had not started)."""
    start = next((i for i, v in enumerate(history) if v), len(history))
    series = [float(v) for v in history[start:]]
    method = _method_for(len(series), horizon)
    if method == NONE:
        return Forecast(method=NONE, history_days=len(series))
    model_error, naive_error = backtest(series, method, horizon=horizon)
    values = [round(v, 2) for v in _predict(method, series, horizon)]
    return Forecast(
        method=method, history_days=len(series), values=values, backtest=model_error, baseline=naive_error
    )

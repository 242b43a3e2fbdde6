package io.flowsight.forecast.job;

/**
 * One forecast step of one series, as written to the forecast topic (one JSON object per record)
 * and ingested into the forecasts' Druid datasource. The series' dimensions are flat, named as in
 * the flows datasource ({@code clientApp}, {@code serverZone}, ...), so that the console can join a
 * forecast to its actuals by the same columns.
 *
 * @param time the forecast step's start, epoch milliseconds UTC (the row's {@code __time})
 * @param issuedAt when the job made it, epoch milliseconds UTC: a later run supersedes it
 * @param step the step, ISO 8601 ({@code PT1H})
 * @param metric what is forecast: {@code bytes} (both directions)
 * @param forecast the point forecast
 * @param lower the prediction interval's lower bound
 * @param upper its upper bound
 * @param coverage the interval's nominal coverage, e.g. 0.95
 * @param model the model that made it
 * @param historySteps how many steps of history it was fitted on
 */
public record ForecastPoint(
    long time,
    long issuedAt,
    String kind,
    String clientApp,
    String serverApp,
    String clientZone,
    String serverZone,
    Integer servicePort,
    String step,
    String metric,
    double forecast,
    double lower,
    double upper,
    double coverage,
    String model,
    int historySteps) {}

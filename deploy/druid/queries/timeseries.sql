-- Traffic time series per application pair, one row per bucket and pair, for forecasting jobs.
-- client_app/server_app '*' match any; buckets are TIME_FLOOR(__time, granularity), UTC.
-- Parameters: client_app, server_app, granularity (ISO 8601 period), since_ms, until_ms.
SELECT
  TIME_FLOOR("__time", {{granularity}}) AS "time",
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  SUM("bytesClientToServer") AS "bytes_client_to_server",
  SUM("bytesServerToClient") AS "bytes_server_to_client",
  SUM("connections") AS "connections",
  SUM("failedConnections") AS "failed_connections",
  SUM("retransmits") AS "retransmits",
  SUM("rttSumMicros") AS "rtt_sum_micros",
  SUM("rttCount") AS "rtt_count",
  SUM("rttSumMicros") * 1.0 / NULLIF(SUM("rttCount"), 0) AS "mean_rtt_micros"
FROM "flows"
WHERE ({{client_app}} = '*' OR "clientApp" = {{client_app}})
  AND ({{server_app}} = '*' OR "serverApp" = {{server_app}})
  AND "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3

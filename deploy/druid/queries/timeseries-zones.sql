-- Traffic time series per zone pair and service port, one row per bucket, pair and port, for
-- forecasting jobs. Ends without a zone are '?'; buckets are TIME_FLOOR(__time, granularity), UTC.
-- Parameters: granularity (ISO 8601 period), since_ms, until_ms.
SELECT
  TIME_FLOOR("__time", {{granularity}}) AS "time",
  COALESCE("clientZone", '?') AS "client_zone",
  COALESCE("serverZone", '?') AS "server_zone",
  "servicePort" AS "service_port",
  SUM("bytesClientToServer") AS "bytes_client_to_server",
  SUM("bytesServerToClient") AS "bytes_server_to_client",
  SUM("connections") AS "connections"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4

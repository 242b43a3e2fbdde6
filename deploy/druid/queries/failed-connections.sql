-- Failed connection attempts by application pair and service port (pathway validation): who tries to reach what and fails.
-- failed_pct = failed / (failed + established connections).
-- Parameters: since_ms, until_ms, limit.
SELECT
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  "servicePort" AS "service_port",
  SUM("failedConnections") AS "failed",
  SUM("connections") AS "connections",
  ROUND(100.0 * SUM("failedConnections") / (SUM("failedConnections") + SUM("connections")), 1) AS "failed_pct",
  COUNT(DISTINCT "serverIp") AS "server_ips",
  MIN("__time") AS "first_minute",
  MAX("__time") AS "last_minute"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3
HAVING SUM("failedConnections") > 0
ORDER BY "failed" DESC, "failed_pct" DESC
LIMIT {{limit}}

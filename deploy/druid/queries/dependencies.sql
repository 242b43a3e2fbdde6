-- Upstream and downstream of one application: whom it calls (downstream) and who calls it (upstream), per service port.
-- Parameters: app, since_ms, until_ms, limit.
SELECT
  CASE WHEN "clientApp" = {{app}} THEN 'downstream' ELSE 'upstream' END AS "direction",
  CASE WHEN "clientApp" = {{app}}
    THEN COALESCE("serverApp", '<' || "serverAttribution" || '>')
    ELSE COALESCE("clientApp", '<' || "clientAttribution" || '>')
  END AS "peer_app",
  "servicePort" AS "service_port",
  SUM("connections") AS "connections",
  SUM("failedConnections") AS "failed",
  SUM("bytesClientToServer") AS "bytes_client_to_server",
  SUM("bytesServerToClient") AS "bytes_server_to_client",
  SUM("rttSumMicros") * 1.0 / NULLIF(SUM("rttCount"), 0) / 1000 AS "mean_rtt_ms"
FROM "flows"
WHERE ("clientApp" = {{app}} OR "serverApp" = {{app}})
  AND "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3
ORDER BY 1, "connections" DESC, "failed" DESC, 2, 3
LIMIT {{limit}}

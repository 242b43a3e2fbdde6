-- Application pairs by bytes, both directions added, most first.
-- An end without an owner shows its attribution status instead of an app, e.g. <NEVER_SEEN>.
-- Parameters: since_ms, until_ms (epoch ms, end exclusive), limit.
SELECT
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  SUM("bytesClientToServer") + SUM("bytesServerToClient") AS "bytes",
  SUM("bytesClientToServer") AS "bytes_client_to_server",
  SUM("bytesServerToClient") AS "bytes_server_to_client",
  SUM("connections") AS "connections",
  SUM("failedConnections") AS "failed",
  COUNT(DISTINCT "servicePort") AS "service_ports"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2
ORDER BY "bytes" DESC, "connections" DESC
LIMIT {{limit}}

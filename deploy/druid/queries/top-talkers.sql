-- Application pairs by bytes, both directions added, most first.
-- An end without an owner shows its attribution status instead of an app, e.g. <NEVER_SEEN>.
-- service_ports is exact: the inner query sums per pair and port, the outer counts the ports (twice as
-- fast as Druid's approximate COUNT(DISTINCT) over every row).
-- Parameters: since_ms, until_ms (epoch ms, end exclusive), limit.
SELECT
  "client_app",
  "server_app",
  SUM("up") + SUM("down") AS "bytes",
  SUM("up") AS "bytes_client_to_server",
  SUM("down") AS "bytes_server_to_client",
  SUM("established") AS "connections",
  SUM("failed") AS "failed",
  COUNT(*) AS "service_ports"
FROM (
  SELECT
    COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
    COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
    "servicePort",
    SUM("bytesClientToServer") AS "up",
    SUM("bytesServerToClient") AS "down",
    SUM("connections") AS "established",
    SUM("failedConnections") AS "failed"
  FROM "flows"
  WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
  GROUP BY 1, 2, 3)
GROUP BY 1, 2
ORDER BY "bytes" DESC, "connections" DESC
LIMIT {{limit}}

-- Ephemeral port use per client IP and server endpoint, most distinct ports first (port exhaustion, NAT, connection churn).
-- distinct_ports counts the ports listed in the rows; ports_not_listed counts connections whose port did not fit the
-- collector's bounded list (distinct_ports is then a lower bound).
-- Parameters: since_ms, until_ms, limit.
SELECT
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  "clientIp" AS "client_ip",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  "serverIp" AS "server_ip",
  "servicePort" AS "service_port",
  ARRAY_LENGTH(ARRAY_CONCAT_AGG(DISTINCT "ephemeralPorts", 1048576)) AS "distinct_ports",
  SUM("ephemeralPortsOverflow") AS "ports_not_listed",
  SUM("connections") AS "connections",
  SUM("failedConnections") AS "failed"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3, 4, 5
ORDER BY "distinct_ports" DESC, "connections" DESC
LIMIT {{limit}}

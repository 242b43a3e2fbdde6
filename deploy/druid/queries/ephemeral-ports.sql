-- Ephemeral port pressure per client IP and server endpoint, most ports in one minute first (port exhaustion, NAT, churn).
-- peak_ports_a_minute is the most ports one minute's connections of the pair used: a closed connection's port stays in
-- TIME_WAIT for 60 s, so that is about the ports held at once, which is what runs out (28,232 with Linux's default
-- ip_local_port_range). It adds the ports a minute's row lists and its connections whose port did not fit the
-- collector's bounded list (ports_not_listed; each may reuse a listed port, so the peak is then an upper bound).
-- Parameters: since_ms, until_ms, limit.
SELECT
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  "clientIp" AS "client_ip",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  "serverIp" AS "server_ip",
  "servicePort" AS "service_port",
  MAX(ARRAY_LENGTH("ephemeralPorts") + "ephemeralPortsOverflow") AS "peak_ports_a_minute",
  SUM("ephemeralPortsOverflow") AS "ports_not_listed",
  SUM("connections") AS "connections",
  SUM("failedConnections") AS "failed"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3, 4, 5
ORDER BY "peak_ports_a_minute" DESC, "connections" DESC
LIMIT {{limit}}

-- Retransmit and RTT hot spots by application pair and zone pair, most retransmits first, then slowest.
-- retransmit_pct = retransmits / segments (both directions); mean RTT = SUM(rttSumMicros) / SUM(rttCount).
-- Parameters: since_ms, until_ms, limit.
SELECT
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  "clientZone" AS "client_zone",
  "serverZone" AS "server_zone",
  SUM("connections") AS "connections",
  SUM("retransmits") AS "retransmits",
  ROUND(100.0 * SUM("retransmits") / NULLIF(SUM("segmentsClientToServer") + SUM("segmentsServerToClient"), 0), 3) AS "retransmit_pct",
  ROUND(SUM("rttSumMicros") * 1.0 / NULLIF(SUM("rttCount"), 0) / 1000, 3) AS "mean_rtt_ms",
  ROUND(MIN("rttMinMicros") / 1000.0, 3) AS "min_rtt_ms",
  ROUND(MAX("rttMaxMicros") / 1000.0, 3) AS "max_rtt_ms"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3, 4
HAVING SUM("retransmits") > 0 OR SUM("rttCount") > 0
ORDER BY "retransmits" DESC, "mean_rtt_ms" DESC
LIMIT {{limit}}

-- The dependency graph: one edge per application pair (client calls server), with bytes, connections, failures and retransmits.
-- An end without an owner is a node named by its attribution status, e.g. <NEVER_SEEN>. zone and cluster narrow it to the
-- flows with either end in that zone (or cluster); '' means any.
-- Parameters: zone, cluster, since_ms, until_ms, limit.
SELECT
  COALESCE("clientApp", '<' || "clientAttribution" || '>') AS "client_app",
  COALESCE("serverApp", '<' || "serverAttribution" || '>') AS "server_app",
  SUM("bytesClientToServer") + SUM("bytesServerToClient") AS "bytes",
  SUM("bytesClientToServer") AS "bytes_client_to_server",
  SUM("bytesServerToClient") AS "bytes_server_to_client",
  SUM("connections") AS "connections",
  SUM("failedConnections") AS "failed",
  SUM("retransmits") AS "retransmits",
  SUM("retransmits") * 100.0 / NULLIF(SUM("segmentsClientToServer") + SUM("segmentsServerToClient"), 0) AS "retransmit_pct",
  SUM("rttSumMicros") * 1.0 / NULLIF(SUM("rttCount"), 0) / 1000 AS "mean_rtt_ms"
FROM "flows"
WHERE ({{zone}} = '' OR "clientZone" = {{zone}} OR "serverZone" = {{zone}})
  AND ({{cluster}} = '' OR "clientCluster" = {{cluster}} OR "serverCluster" = {{cluster}})
  AND "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2
ORDER BY "bytes" DESC, "connections" DESC, "failed" DESC, 1, 2
LIMIT {{limit}}

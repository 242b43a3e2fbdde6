-- Traffic by zone pair, with its kind: same-zone, cross-zone (same region) or cross-region; most bytes first.
-- Parameters: since_ms, until_ms, limit.
SELECT
  COALESCE("clientRegion", '?') || '/' || COALESCE("clientZone", '?') AS "client_zone",
  COALESCE("serverRegion", '?') || '/' || COALESCE("serverZone", '?') AS "server_zone",
  CASE
    WHEN "clientRegion" IS NULL OR "serverRegion" IS NULL OR "clientZone" IS NULL OR "serverZone" IS NULL THEN 'unknown'
    WHEN "clientRegion" <> "serverRegion" THEN 'cross-region'
    WHEN "clientZone" <> "serverZone" THEN 'cross-zone'
    ELSE 'same-zone'
  END AS "kind",
  SUM("bytesClientToServer") + SUM("bytesServerToClient") AS "bytes",
  SUM("bytesClientToServer") AS "bytes_client_to_server",
  SUM("bytesServerToClient") AS "bytes_server_to_client",
  SUM("connections") AS "connections",
  COUNT(DISTINCT "clientApp") AS "client_apps",
  COUNT(DISTINCT "serverApp") AS "server_apps"
FROM "flows"
WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
GROUP BY 1, 2, 3
ORDER BY "bytes" DESC
LIMIT {{limit}}

-- Traffic by zone pair, with its kind: same-zone, cross-zone (same region) or cross-region; most bytes first.
-- The inner query groups by the columns themselves and the outer one builds the labels and counts the apps: a
-- label built for every row, and a distinct count over every row, cost Druid five times as much.
-- Parameters: since_ms, until_ms, limit.
SELECT
  COALESCE("cr", '?') || '/' || COALESCE("cz", '?') AS "client_zone",
  COALESCE("sr", '?') || '/' || COALESCE("sz", '?') AS "server_zone",
  CASE
    WHEN "cr" IS NULL OR "sr" IS NULL OR "cz" IS NULL OR "sz" IS NULL THEN 'unknown'
    WHEN "cr" <> "sr" THEN 'cross-region'
    WHEN "cz" <> "sz" THEN 'cross-zone'
    ELSE 'same-zone'
  END AS "kind",
  SUM("up") + SUM("down") AS "bytes",
  SUM("up") AS "bytes_client_to_server",
  SUM("down") AS "bytes_server_to_client",
  SUM("established") AS "connections",
  COUNT(DISTINCT "ca") AS "client_apps",
  COUNT(DISTINCT "sa") AS "server_apps"
FROM (
  SELECT
    "clientRegion" AS "cr", "clientZone" AS "cz", "serverRegion" AS "sr", "serverZone" AS "sz",
    "clientApp" AS "ca", "serverApp" AS "sa",
    SUM("bytesClientToServer") AS "up",
    SUM("bytesServerToClient") AS "down",
    SUM("connections") AS "established"
  FROM "flows"
  WHERE "__time" >= MILLIS_TO_TIMESTAMP({{since_ms}}) AND "__time" < MILLIS_TO_TIMESTAMP({{until_ms}})
  GROUP BY 1, 2, 3, 4, 5, 6)
GROUP BY 1, 2, 3
ORDER BY "bytes" DESC
LIMIT {{limit}}

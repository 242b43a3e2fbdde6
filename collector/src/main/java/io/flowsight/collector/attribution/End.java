package io.flowsight.collector.attribution;

/** Which end of a flow is being attributed, or a held flow waits for. */
enum End {
  LOCAL,
  REMOTE
}

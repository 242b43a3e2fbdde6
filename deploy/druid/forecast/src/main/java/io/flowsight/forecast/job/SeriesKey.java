package io.flowsight.forecast.job;

/**
 * What one series is the traffic of: an application pair, or a zone pair on one service port.
 * Fields a kind does not use are null.
 */
public record SeriesKey(
    Kind kind,
    String clientApp,
    String serverApp,
    String clientZone,
    String serverZone,
    Integer servicePort) {

  /** The two kinds of series the job forecasts. */
  public enum Kind {
    /** Bytes from one application to another, both directions, every port. */
    APP_PAIR,
    /** Bytes between two zones on one service port. */
    ZONE_PORT
  }

  public static SeriesKey appPair(String clientApp, String serverApp) {
    return new SeriesKey(Kind.APP_PAIR, clientApp, serverApp, null, null, null);
  }

  public static SeriesKey zonePort(String clientZone, String serverZone, int servicePort) {
    return new SeriesKey(Kind.ZONE_PORT, null, null, clientZone, serverZone, servicePort);
  }

  /** The Kafka key of the series' forecasts: one partition keeps a series' forecasts in order. */
  public String text() {
    return switch (kind) {
      case APP_PAIR -> "app:" + clientApp + "->" + serverApp;
      case ZONE_PORT -> "zone:" + clientZone + "->" + serverZone + ":" + servicePort;
    };
  }
}

package io.flowsight.sidecar.bench;

/** A run directory the report cannot be made from; the message names the file and what is wrong. */
final class BenchDataException extends RuntimeException {

  BenchDataException(String message) {
    super(message);
  }
}

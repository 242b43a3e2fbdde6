package io.flowsight.sidecar.bpf;

/**
 * The one failure type of the BPF layer: which operation failed, with which errno, and what to do
 * about it when we know (missing privileges, a kernel without BTF).
 */
public final class BpfException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String operation;
  private final int errno;

  /**
   * @param operation the libbpf call or stage that failed, e.g. {@code bpf_object__load}
   * @param errno positive errno, 0 when none applies
   * @param detail what it means (strerror text, and a hint where we have one)
   */
  public BpfException(String operation, int errno, String detail) {
    super(operation + " failed" + (errno != 0 ? " (errno " + errno + ")" : "") + ": " + detail);
    this.operation = operation;
    this.errno = errno;
  }

  public BpfException(String operation, int errno, String detail, Throwable cause) {
    this(operation, errno, detail);
    initCause(cause);
  }

  /** The libbpf function or stage that failed. */
  public String operation() {
    return operation;
  }

  /** The positive errno, or 0. */
  public int errno() {
    return errno;
  }
}

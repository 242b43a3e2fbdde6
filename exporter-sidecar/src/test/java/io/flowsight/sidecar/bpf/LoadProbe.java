package io.flowsight.sidecar.bpf;

/**
 * Tries to load flow.bpf.o and prints {@code OK} or {@code BpfException <operation> <errno>
 * <message>}. Run in a child JVM by {@link BpfPrivilegesIT} with capabilities dropped.
 */
public final class LoadProbe {

  private LoadProbe() {}

  public static void main(String[] args) {
    try (BpfObject bpf = BpfObject.load(BpfObject.Options.defaults())) {
      System.out.println("OK " + bpf.hooksLive());
    } catch (BpfException e) {
      System.out.println("BpfException " + e.operation() + " " + e.errno() + " " + e.getMessage());
    }
  }
}

package io.flowsight.sidecar.bpf;

/**
 * Whether one program of the object is running in the kernel.
 *
 * @param program program (function) name in flow.bpf.c
 * @param hook its ELF section, e.g. {@code kprobe/tcp_v4_connect}
 * @param required whether the sidecar cannot work without it
 * @param loaded whether the verifier accepted it
 * @param live whether it is attached
 * @param errno why loading or attaching failed; 0 when live
 * @param error what failed, empty when live
 */
public record HookStatus(
    String program,
    String hook,
    boolean required,
    boolean loaded,
    boolean live,
    int errno,
    String error) {

  @Override
  public String toString() {
    return hook + " (" + program + "): " + (live ? "live" : error);
  }
}

package io.flowsight.sidecar.bpf;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * Raw jnr-ffi signatures of the libbpf 1.x functions we call (libbpf.so.1), and nothing else: no
 * checks here, {@link BpfObject} checks every result.
 *
 * <p>libbpf 1.x returns {@code -errno} from int functions and NULL with errno set from pointer
 * functions ({@link SaveError} keeps that errno for {@link jnr.ffi.LastError}); older builds could
 * return error-encoded pointers (-4095..-1), which {@link Libs#checkPointer} also catches. {@code
 * struct bpf_object *}, {@code bpf_map *}, {@code bpf_program *}, {@code bpf_link *} and {@code
 * ring_buffer *} are opaque {@link Pointer}s.
 */
public interface LibBpf {

  /** {@code libbpf_print_fn_t}: {@code int (*)(enum libbpf_print_level, const char *, va_list)}. */
  interface PrintFn {
    /**
     * @param level 0 warn, 1 info, 2 debug
     * @param format printf format
     * @param args the {@code va_list} (a pointer on x86-64 and arm64), for {@code vsnprintf}
     */
    @Delegate
    int print(int level, Pointer format, Pointer args);
  }

  /** {@code ring_buffer_sample_fn}: {@code int (*)(void *ctx, void *data, size_t size)}. */
  interface SampleFn {
    /** Returns 0 to go on; a negative value stops {@code ring_buffer__consume} with that error. */
    @Delegate
    int sample(Pointer ctx, Pointer data, @size_t long size);
  }

  /** Returns the previous print function. */
  Pointer libbpf_set_print(PrintFn fn);

  int libbpf_strerror(int err, Pointer buf, @size_t long size);

  int libbpf_num_possible_cpus();

  @SaveError
  Pointer bpf_object__open_file(String path, Pointer opts);

  int bpf_object__load(Pointer obj);

  void bpf_object__close(Pointer obj);

  @SaveError
  Pointer bpf_object__find_map_by_name(Pointer obj, String name);

  @SaveError
  Pointer bpf_object__find_program_by_name(Pointer obj, String name);

  int bpf_map__set_max_entries(Pointer map, int maxEntries);

  int bpf_map__max_entries(Pointer map);

  int bpf_map__fd(Pointer map);

  int bpf_program__set_autoload(Pointer prog, boolean autoload);

  String bpf_program__section_name(Pointer prog);

  int bpf_program__fd(Pointer prog);

  @SaveError
  Pointer bpf_program__attach(Pointer prog);

  int bpf_link__destroy(Pointer link);

  int bpf_link__fd(Pointer link);

  /** A new readable fd for one pass of an iterator link; returns the fd or -errno. */
  @SaveError
  int bpf_iter_create(int linkFd);

  @SaveError
  Pointer ring_buffer__new(int mapFd, SampleFn sample, Pointer ctx, Pointer opts);

  /** Drains what is queued without waiting; returns the number of records or -errno. */
  int ring_buffer__consume(Pointer rb);

  void ring_buffer__free(Pointer rb);

  /** Returns 0 or -errno (libbpf 1.x), with errno set too. */
  @SaveError
  int bpf_map_lookup_elem(int fd, Pointer key, Pointer value);
}

package io.flowsight.collector.wire;

import io.flowsight.codec.Bin;
import io.flowsight.collector.output.Owner;

/** The binary form of an {@link Owner}: its eight fields as nstrings, in declaration order. */
final class OwnerCodec {

  private OwnerCodec() {}

  static void write(Bin.Out out, Owner owner) {
    out.nstring(owner.app())
        .nstring(owner.cluster())
        .nstring(owner.namespace())
        .nstring(owner.workloadKind())
        .nstring(owner.workloadName())
        .nstring(owner.zone())
        .nstring(owner.region())
        .nstring(owner.account());
  }

  static Owner read(Bin.In in) {
    return new Owner(
        in.nstring(),
        in.nstring(),
        in.nstring(),
        in.nstring(),
        in.nstring(),
        in.nstring(),
        in.nstring(),
        in.nstring());
  }
}

/**
 * The seed kernel patch's allocator, ported as it was: the oracle the model tests compare the
 * core with, and the peer the benchmarks measure against. Uses only {@code core}.
 */
package io.pidspace.baseline;

/**
 * The fork-storm simulator: a workload of containers forking and exiting, driven against the
 * embedded facade, a node over HTTP, or the seed's allocator, with its report. Uses {@code api},
 * {@code baseline} and {@code core}.
 */
package io.pidspace.storm;

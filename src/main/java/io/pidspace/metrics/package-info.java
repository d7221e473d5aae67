/**
 * The node's Prometheus instruments, bumped where the work happens and scraped at
 * {@code /metrics}. Uses nothing else of pidspace.
 */
package io.pidspace.metrics;

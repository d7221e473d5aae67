/**
 * The actors: a space as an event-sourced sharded entity, the registry of spaces, the router and
 * coalescer that batch requests into runs, and the journal around them (schema, fence, identity,
 * compaction). Uses {@code core} and {@code metrics}.
 */
package io.pidspace.space;

/**
 * The pure allocator: the pid layout (space id and vpid packed with a shift), a space's pid map
 * with the seed's next-fit rule, holds, the reuse delay, reconciliation, and the refusals. No
 * actors, no I/O; uses nothing else of pidspace.
 */
package io.pidspace.core;

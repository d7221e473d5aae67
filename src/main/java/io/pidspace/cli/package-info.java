/**
 * The {@code pidspace} command ({@code Main}, picocli): a node, the trace replay, the storm, and
 * the client commands over the HTTP API. It may use every package below it.
 */
package io.pidspace.cli;

/**
 * The command line: {@code node}, {@code storm}, {@code replay} and the HTTP client commands, on
 * picocli. The top layer: may use every other package.
 */
package io.pidspace.cli;

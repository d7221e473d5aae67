/**
 * The JSON HTTP API, the dashboard and {@code /metrics} over the facade: routes, request decoding
 * with bounded sizes, errors as answers. Uses {@code api}, {@code core}, {@code metrics} and the
 * few {@code space} types a node reports.
 */
package io.pidspace.http;

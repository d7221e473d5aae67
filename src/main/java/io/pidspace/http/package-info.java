/**
 * The JSON HTTP API of a node: the Netty server ({@code ApiServer}), the routes, the codec
 * ({@code ApiJson} over {@code RequestReader}), the token check, the request metrics, the dashboard
 * and {@code /metrics}. It uses {@code api}, {@code core} and {@code metrics} ({@code MetricsRoute}
 * also reads {@code space}), never {@code storm} or {@code cli}.
 */
package io.pidspace.http;

/**
 * The library's entry point: {@link io.pidspace.api.PidAuthority}, an Akka extension whose
 * methods answer {@code CompletionStage}s; requests are checked here. Uses {@code space} and
 * {@code core}.
 */
package io.pidspace.api;

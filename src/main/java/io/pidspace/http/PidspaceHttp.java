package io.pidspace.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.server.Route;
import io.pidspace.api.PidAuthority;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;

/**
 * The JSON HTTP API of a node (docs/http.md). A node calls
 * {@code PidspaceHttp.bind(system, authority, HttpSettings.from(system.settings().config()))}.
 */
public final class PidspaceHttp {

  private PidspaceHttp() {}

  /**
   * Serves the API of {@code authority} where {@code settings} say, on {@link ApiServer}; completes
   * with the address it listens on. It stops taking requests and lets those in flight finish when
   * {@code system}'s CoordinatedShutdown runs. The server has the timeouts and limits of
   * {@code pidspace.http.server}.
   */
  public static CompletionStage<InetSocketAddress> bind(ActorSystem<?> system, PidAuthority authority, HttpSettings settings) {
    ApiServer.Limits limits = ApiServer.Limits.from(system.settings().config(), settings);
    return ApiServer.bind(system, settings.interfaceName(), settings.port(), limits, settings.terminationDeadline(),
        new ApiHandler(new PidspaceRoutes(authority, settings), system, limits.requestTimeout()));
  }

  /**
   * The API as one akka-http route, for a caller that runs its own akka-http server. ({@link #bind}
   * answers allocs without a body ahead of it, the same way and faster.)
   */
  public static Route route(PidAuthority authority, HttpSettings settings) {
    return new PidspaceRoutes(authority, settings).routeForAkkaHttp();
  }
}

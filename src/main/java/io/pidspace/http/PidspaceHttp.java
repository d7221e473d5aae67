package io.pidspace.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import io.pidspace.api.PidAuthority;
import java.util.concurrent.CompletionStage;

/**
 * The JSON HTTP API of a node (docs/http.md). A node calls
 * {@code PidspaceHttp.bind(system, authority, HttpSettings.from(system.settings().config()))}.
 */
public final class PidspaceHttp {

  private PidspaceHttp() {}

  /**
   * Serves the API of {@code authority} where {@code settings} say. The binding stops taking
   * requests and lets those in flight finish when {@code system}'s CoordinatedShutdown runs.
   */
  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, PidAuthority authority, HttpSettings settings) {
    return Http.get(system)
        .newServerAt(settings.interfaceName(), settings.port())
        .bind(route(authority, settings))
        .thenApply(binding -> binding.addToCoordinatedShutdown(settings.terminationDeadline(), system));
  }

  /** The API as one route, for a caller that runs its own HTTP server. */
  public static Route route(PidAuthority authority, HttpSettings settings) {
    return new PidspaceRoutes(authority, settings).route();
  }
}

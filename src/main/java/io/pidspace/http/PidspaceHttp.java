package io.pidspace.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.settings.ServerSettings;
import com.typesafe.config.Config;
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
   * requests and lets those in flight finish when {@code system}'s CoordinatedShutdown runs. The
   * server has the timeouts and limits of {@code pidspace.http.server} (see {@link #serverSettings}).
   */
  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, PidAuthority authority, HttpSettings settings) {
    return Http.get(system)
        .newServerAt(settings.interfaceName(), settings.port())
        .withSettings(serverSettings(system.settings().config()))
        .bind(new PidspaceRoutes(authority, settings).handler(system))
        .thenApply(binding -> binding.addToCoordinatedShutdown(settings.terminationDeadline(), system));
  }

  /**
   * {@code akka.http.server} with {@code pidspace.http.server} laid over it: the API's timeouts,
   * parsing limits and JSON answer to unparsable requests, for its own binding alone (Akka
   * Management's server in the same system keeps its settings).
   */
  public static ServerSettings serverSettings(Config config) {
    return ServerSettings.create(config.getConfig("pidspace.http.server").atPath("akka.http.server").withFallback(config));
  }

  /**
   * The API as one route, for a caller that runs its own HTTP server. ({@link #bind} answers
   * allocs without a body ahead of it, the same way and faster.)
   */
  public static Route route(PidAuthority authority, HttpSettings settings) {
    return new PidspaceRoutes(authority, settings).route();
  }
}

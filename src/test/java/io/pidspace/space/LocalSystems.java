package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.PidspaceException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A plain (not clustered) actor system on a durable journal, as the space tests start and stop one. */
final class LocalSystems {

  private static final AtomicInteger DATABASES = new AtomicInteger();

  private LocalSystems() {}

  /** A fresh in-memory H2 journal, its name starting with {@code name}. */
  static String memoryDb(String name) {
    return "jdbc:h2:mem:" + name + "-" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
  }

  /** A system named {@code name}, local and durable, with {@code settings} on top (the journal's among them). */
  static ActorSystem<Void> start(String name, Map<String, Object> settings) {
    Map<String, Object> all = new HashMap<>(Map.of("akka.actor.provider", "local", "pidspace.persistence", "jdbc"));
    all.putAll(settings);
    return ActorSystem.create(Behaviors.empty(), name, ConfigFactory.load(ConfigFactory.parseMap(all)));
  }

  static void stop(ActorSystem<?> system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Far above any answer time, also on a busy build machine. */
  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static PidspaceException refusal(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(stage));
    return assertInstanceOf(PidspaceException.class, e.getCause());
  }
}

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.japi.function.Function;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The floor under pidspace's HTTP path (bench/http-vs-redis.sh): the same akka-http server and
 * dispatcher as a node, and one actor that hands out the next number per request, the least any
 * actor-based allocator behind akka-http does. No pidspace code, no journal. Prints its port.
 *
 *   java -cp target/pidspace.jar bench/BareAkkaHttp.java
 */
public class BareAkkaHttp {

  record Next(CompletableFuture<Integer> answer) {}

  public static void main(String[] args) throws Exception {
    ActorSystem<Next> system = ActorSystem.create(counter(0), "bare", ConfigFactory.parseString("""
        akka.actor.default-dispatcher.fork-join-executor.parallelism-min = 2 # as pidspace-node.conf
        akka.loglevel = WARNING
        akka.loggers = ["akka.event.slf4j.Slf4jLogger"]
        """).withFallback(ConfigFactory.load()));
    ActorRef<Next> counter = system;
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = request -> {
      request.discardEntityBytes(system);
      CompletableFuture<Integer> pid = new CompletableFuture<>();
      counter.tell(new Next(pid));
      return pid.thenApply(n -> HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, "{\"pids\":[" + n + "]}"));
    };
    var binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(handler).toCompletableFuture().get();
    System.out.println("port " + binding.localAddress().getPort());
  }

  private static akka.actor.typed.Behavior<Next> counter(int last) {
    return Behaviors.receiveMessage(next -> {
      next.answer().complete(last + 1);
      return counter(last + 1);
    });
  }
}

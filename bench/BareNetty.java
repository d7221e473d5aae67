import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * The floor under pidspace's HTTP path (bench/http-vs-redis.sh): the HTTP server library a node
 * serves its API with (Netty, epoll, one event loop) and one actor that hands out the next number
 * per request, the least any actor-based allocator behind that server does. No pidspace code, no
 * journal. Prints its port.
 *
 *   java -cp target/pidspace.jar bench/BareNetty.java
 */
public class BareNetty {

  record Next(CompletableFuture<Integer> answer) {}

  public static void main(String[] args) throws Exception {
    ActorSystem<Next> system = ActorSystem.create(counter(0), "bare", ConfigFactory.parseString("""
        akka.actor.default-dispatcher.fork-join-executor.parallelism-min = 2 # as pidspace-node.conf
        akka.loglevel = WARNING
        akka.loggers = ["akka.event.slf4j.Slf4jLogger"]
        """).withFallback(ConfigFactory.load()));
    ActorRef<Next> counter = system;
    Channel listening = new ServerBootstrap().group(new EpollEventLoopGroup(1)).channel(EpollServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel connection) {
            connection.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
                    CompletableFuture<Integer> pid = new CompletableFuture<>();
                    counter.tell(new Next(pid));
                    pid.thenAccept(n -> {
                      byte[] body = ("{\"pids\":[" + n + "]}").getBytes(StandardCharsets.US_ASCII);
                      var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                          Unpooled.wrappedBuffer(body));
                      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                      context.writeAndFlush(response);
                    });
                  }
                });
          }
        })
        .bind("127.0.0.1", 0).sync().channel();
    System.out.println("port " + ((InetSocketAddress) listening.localAddress()).getPort());
  }

  private static akka.actor.typed.Behavior<Next> counter(int last) {
    return Behaviors.receiveMessage(next -> {
      next.answer().complete(last + 1);
      return counter(last + 1);
    });
  }
}

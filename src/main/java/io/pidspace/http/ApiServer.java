package io.pidspace.http;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.pidspace.core.Failures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's HTTP/1.1 server, on Netty: one event loop reads, parses and writes every connection,
 * with no actor between a socket and the handler (akka-http's own server spent twice Redis's CPU
 * per request, docs/benchmarks.md). It enforces the transport's rules before a handler sees a
 * request: the limits of {@code pidspace.http.server}, a body whole within {@code body-timeout}
 * and at most {@code max-body} long, an answer within {@code request-timeout}, answers in the
 * order a connection sent its requests, and every refusal as the API's JSON error, which never
 * quotes the request.
 *
 * <p>Over 400 lines: a connection's state machine (read, pause, answer in order, linger) is one
 * piece; its refusals live apart in {@link ServerRefusals}.
 */
final class ApiServer {

  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
  /** Requests one connection may have read ahead of its answers before the server stops reading it. */
  private static final int MAX_PIPELINED = 16;
  /** Requests one connection may have waiting at all: past it the connection is refused and closed. */
  private static final int MAX_WAITING = 256;
  /** How long a refused connection still takes the rest of what its client sends, so the refusal is read, not reset. */
  private static final long LINGER_MILLIS = 5_000;

  /** The one route whose body may be larger than {@code max-body}: {@link HttpSettings#MAX_IMPORT_BODY}. */
  static final String IMPORT_PATH = "/v1/spaces:import";

  /** A request read whole: its head as Netty parsed it and its body. */
  record Request(HttpRequest head, byte[] body) {}

  /** The transport's limits and timeouts: {@code pidspace.http.server} and the body's from {@link HttpSettings}. */
  record Limits(Duration requestTimeout, Duration idleTimeout, int maxUriLength, int maxHeaderCount,
      int maxHeaderValueLength, int ioThreads, int maxConnections, long maxBody, Duration bodyTimeout) {

    static Limits from(Config config, HttpSettings settings) {
      Config c = config.getConfig("pidspace.http.server");
      return new Limits(c.getDuration("request-timeout"), c.getDuration("idle-timeout"),
          c.getBytes("parsing.max-uri-length").intValue(), c.getInt("parsing.max-header-count"),
          c.getBytes("parsing.max-header-value-length").intValue(), c.getInt("io-threads"), c.getInt("max-connections"),
          settings.maxBody(), settings.bodyTimeout());
    }
  }

  private final Limits limits;
  private final Function<Request, CompletionStage<FullHttpResponse>> handler;
  private final EventLoopGroup loops;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final AtomicInteger inFlight = new AtomicInteger();
  private final CompletableFuture<Done> drained = new CompletableFuture<>();
  private volatile boolean stopping;

  private ApiServer(Limits limits, Function<Request, CompletionStage<FullHttpResponse>> handler) {
    this.limits = limits;
    this.handler = handler;
    DefaultThreadFactory threads = new DefaultThreadFactory("pidspace-http", true);
    this.loops = Epoll.isAvailable() ? new EpollEventLoopGroup(limits.ioThreads(), threads)
        : new NioEventLoopGroup(limits.ioThreads(), threads);
  }

  /**
   * Serves {@code handler} on {@code host:port} until {@code system}'s CoordinatedShutdown: it
   * then stops accepting, gives the requests in flight {@code terminationDeadline} to be
   * answered, and closes every connection. Completes with the address it listens on.
   */
  static CompletionStage<InetSocketAddress> bind(ActorSystem<?> system, String host, int port, Limits limits,
      Duration terminationDeadline, Function<Request, CompletionStage<FullHttpResponse>> handler) {
    ApiServer server = new ApiServer(limits, handler);
    Class<? extends ServerChannel> channel = server.loops instanceof EpollEventLoopGroup
        ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
    new ServerBootstrap().group(server.loops).channel(channel)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel connection) {
            if (server.connections.size() > limits.maxConnections()) { // the listening channel is one of them
              connection.close();
              return;
            }
            server.connections.add(connection);
            long idle = limits.idleTimeout().toMillis();
            connection.pipeline().addLast(
                new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS),
                // the request line may hold a method and a version beside the target
                new HttpServerCodec(limits.maxUriLength() + 64,
                    limits.maxHeaderCount() * (limits.maxHeaderValueLength() + 64), 64 * 1024),
                server.new Connection());
          }
        })
        .bind(host, port).addListener(future -> {
          if (!future.isSuccess()) {
            server.loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            bound.completeExceptionally(future.cause());
            return;
          }
          Channel listening = ((io.netty.channel.ChannelFuture) future).channel();
          server.connections.add(listening);
          server.stopWith(system, listening, terminationDeadline);
          bound.complete((InetSocketAddress) listening.localAddress());
        });
    return bound;
  }

  private void stopWith(ActorSystem<?> system, Channel listening, Duration terminationDeadline) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "pidspace-http-unbind", () -> {
      stopping = true;
      if (inFlight.get() == 0) {
        drained.complete(Done.getInstance());
      }
      return done(listening.close());
    });
    shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "pidspace-http-drain", () -> {
      system.scheduler().scheduleOnce(terminationDeadline, () -> drained.complete(Done.getInstance()),
          system.executionContext());
      return drained;
    });
    shutdown.addTask(CoordinatedShutdown.PhaseServiceStop(), "pidspace-http-stop", () ->
        done(connections.close()).thenCompose(closed -> done(loops.shutdownGracefully(0, 1, TimeUnit.SECONDS))));
  }

  private static CompletionStage<Done> done(io.netty.util.concurrent.Future<?> future) {
    CompletableFuture<Done> done = new CompletableFuture<>();
    future.addListener(f -> done.complete(Done.getInstance()));
    return done;
  }

  /** What a client answered from one of {@link ApiError}'s JSON errors gets, then the connection ends. */
  private static FullHttpResponse refusal(ApiError error) {
    return HttpBridge.toNetty(error.response());
  }

  /** A request's answer still to be made, and whether its connection stays open after it. */
  private record Turn(Supplier<CompletionStage<FullHttpResponse>> answer, boolean keepAlive) {}

  /**
   * One connection's requests, on its event loop: read whole, then handled one at a time, so
   * answers leave in the order their requests came (a client may pipeline).
   */
  private final class Connection extends ChannelInboundHandlerAdapter {

    /** Answered in turn after the current one; a refusal ends the queue and the connection. */
    private final ArrayDeque<Turn> waiting = new ArrayDeque<>();
    private ChannelHandlerContext context;
    /** The request being read and its body so far; null between requests. */
    private HttpRequest head;
    private ByteArrayOutputStream body;
    private long maxBody;
    private ScheduledFuture<?> bodyTimer;
    /** Whether a request is being answered, and which (a late answer after a timeout is dropped). */
    private boolean busy;
    private int answering;
    private ScheduledFuture<?> requestTimer;
    /** Nothing more is read: a refusal ends the connection after the answers before it. */
    private boolean ending;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      context = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      try {
        if (ending) {
          return;
        }
        if (message instanceof HttpRequest request) {
          begin(request);
        }
        if (message instanceof HttpContent content && head != null) {
          append(content);
        }
      } finally {
        io.netty.util.ReferenceCountUtil.release(message);
      }
    }

    /** A request's head: refused at once when it breaks a rule, else its body is read. */
    private void begin(HttpRequest request) {
      akka.http.javadsl.model.HttpResponse refused = ServerRefusals.ofHead(request, limits, maxBody);
      if (refused != null) {
        end(HttpBridge.toNetty(refused));
        return;
      }
      String expect = request.headers().get(HttpHeaderNames.EXPECT);
      if (expect != null && !expect.equalsIgnoreCase("100-continue")) {
        end(refusal(ServerRefusals.EXPECTATION_FAILED));
        return;
      }
      head = request;
      body = new ByteArrayOutputStream(0);
      boolean importing = request.method().equals(HttpMethod.POST)
          && (request.uri().equals(IMPORT_PATH) || request.uri().startsWith(IMPORT_PATH + "?"));
      maxBody = importing ? HttpSettings.MAX_IMPORT_BODY : limits.maxBody();
      if (HttpUtil.getContentLength(request, 0L) > maxBody) {
        end(refusal(ApiError.bodyTooLarge(maxBody)));
        return;
      }
      if (HttpUtil.getContentLength(request, -1L) > 0 || HttpUtil.isTransferEncodingChunked(request)) {
        if (expect != null && !busy && waiting.isEmpty()) {
          context.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        bodyTimer = context.executor().schedule(() -> end(refusal(ApiError.bodyTimeout(limits.bodyTimeout()))),
            limits.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
      }
    }

    private void append(HttpContent content) {
      if (content.decoderResult().isFailure()) {
        end(refusal(ServerRefusals.ofParse(content.decoderResult().cause(), limits, maxBody)));
        return;
      }
      ByteBuf bytes = content.content();
      if (body.size() + (long) bytes.readableBytes() > maxBody) {
        end(refusal(ApiError.bodyTooLarge(maxBody)));
        return;
      }
      body.writeBytes(io.netty.buffer.ByteBufUtil.getBytes(bytes));
      if (content instanceof LastHttpContent) {
        if (bodyTimer != null) {
          bodyTimer.cancel(false);
          bodyTimer = null;
        }
        Request request = new Request(head, body.toByteArray());
        head = null;
        body = null;
        queue(() -> handler.apply(request), HttpUtil.isKeepAlive(request.head()));
      }
    }

    /** Answers {@code refused} after the answers before it, then closes; nothing more is read. */
    private void end(FullHttpResponse refused) {
      if (ending) {
        return;
      }
      ending = true;
      head = null;
      body = null;
      if (bodyTimer != null) {
        bodyTimer.cancel(false);
      }
      queue(() -> CompletableFuture.completedFuture(refused), false);
    }

    private void queue(Supplier<CompletionStage<FullHttpResponse>> answer, boolean keepAlive) {
      if (busy || !waiting.isEmpty()) {
        if (waiting.size() >= MAX_WAITING && !ending) { // a read decoded past MAX_PIPELINED
          end(refusal(ServerRefusals.tooManyWaiting(MAX_WAITING)));
          return;
        }
        waiting.add(new Turn(answer, keepAlive));
        if (waiting.size() >= MAX_PIPELINED) {
          context.channel().config().setAutoRead(false);
        }
        return;
      }
      start(answer, keepAlive);
    }

    private void start(Supplier<CompletionStage<FullHttpResponse>> answer, boolean keepAlive) {
      busy = true;
      int turn = ++answering;
      inFlight.incrementAndGet();
      CompletionStage<FullHttpResponse> response;
      try {
        response = stopping ? CompletableFuture.completedFuture(refusal(ServerRefusals.SHUTTING_DOWN)) : answer.get();
      } catch (RuntimeException | StackOverflowError failed) {
        response = CompletableFuture.failedFuture(failed);
      }
      requestTimer = context.executor().schedule(() -> finish(turn, refusal(ServerRefusals.REQUEST_TIMEOUT), keepAlive),
          limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
      response.whenComplete((answered, failure) -> {
        FullHttpResponse out = failure == null ? answered : internalError(failure);
        if (context.executor().inEventLoop()) {
          finish(turn, out, keepAlive);
        } else {
          context.executor().execute(() -> finish(turn, out, keepAlive));
        }
      });
    }

    private FullHttpResponse internalError(Throwable failure) {
      log.error("request failed unexpectedly: {}", Failures.unwrap(failure).getClass().getName());
      return refusal(ApiError.of(failure));
    }

    /** Writes the answer of turn {@code turn}, unless a timeout answered it already, and starts the next. */
    private void finish(int turn, FullHttpResponse response, boolean keepAlive) {
      if (turn != answering || !busy) {
        return; // answered already, by the request timeout
      }
      busy = false;
      requestTimer.cancel(false);
      if (inFlight.decrementAndGet() == 0 && stopping) {
        drained.complete(Done.getInstance());
      }
      boolean open = keepAlive && !stopping && context.channel().isActive();
      response.headers().set(HttpHeaderNames.CONNECTION, open ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
      if (!open) {
        waiting.clear();
        context.writeAndFlush(response).addListener(written -> linger());
        return;
      }
      context.writeAndFlush(response);
      if (!waiting.isEmpty()) {
        context.executor().execute(this::next); // not in this stack: an answer ready at once would recurse per request
      }
      resumeReading();
    }

    /** Starts the next waiting request, unless one is under way or the client is not reading its answers. */
    private void next() {
      if (!busy && !waiting.isEmpty() && context.channel().isWritable()) {
        Turn next = waiting.poll();
        start(next.answer(), next.keepAlive());
      }
    }

    /** Reads on while the client reads its answers and few requests wait. */
    private void resumeReading() {
      boolean read = !ending && waiting.size() < MAX_PIPELINED / 2 && context.channel().isWritable();
      if (read != context.channel().config().isAutoRead()) {
        context.channel().config().setAutoRead(read);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      next();
      resumeReading();
      ctx.fireChannelWritabilityChanged();
    }

    /**
     * After the last answer: no more output, and what the client still sends is read and dropped
     * for a while, so a client still sending a refused body reads the refusal instead of a reset.
     */
    private void linger() {
      ending = true;
      Channel channel = context.channel();
      if (!(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
        channel.close();
        return;
      }
      duplex.shutdownOutput();
      channel.config().setAutoRead(true);
      context.executor().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof IdleStateEvent) {
        ctx.close(); // nothing sent or received for idle-timeout: a request sent in half
      } else {
        ctx.fireUserEventTriggered(event);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (bodyTimer != null) {
        bodyTimer.cancel(false);
      }
      if (busy) {
        busy = false;
        requestTimer.cancel(false);
        if (inFlight.decrementAndGet() == 0 && stopping) {
          drained.complete(Done.getInstance());
        }
      }
      waiting.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (!(cause instanceof IOException)) { // a reset by the client is no news
        log.warn("closing an HTTP connection after {}", cause.getClass().getName());
      }
      ctx.close();
    }
  }
}

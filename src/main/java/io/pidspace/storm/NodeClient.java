package io.pidspace.storm;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * An HTTP/1.1 client of one node on Netty: keep-alive connections, one request at a time on each
 * (a slow create must not hold up the allocs behind it), all on one event-loop thread that also
 * completes the answers. The JDK's {@code HttpClient} hands every answer of {@code sendAsync} to
 * the common pool, which on a two-core machine has one thread and so starts a thread per answer:
 * the storm spent its cores starting threads (1,100 a second at 1.7 k allocs/s).
 */
final class NodeClient implements AutoCloseable {

  /** An answer: its status and its body as text. */
  record Response(int status, String body) {}

  private static final int MAX_BODY = 1 << 20;

  private final EventLoopGroup group;
  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final String host;
  private final int port;
  private final String hostHeader;
  private final String basePath;
  private final String authorization;
  private final Duration timeout;
  /** Connections with no request in flight; touched on the loop only. */
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();

  /** @param url {@code http://host[:port][/prefix]} or {@code https://…}; anything else is refused */
  NodeClient(String url, String token, Duration connectTimeout, Duration timeout) {
    URI uri = URI.create(url);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new IllegalArgumentException("not an http:// or https:// URL with a host");
    }
    boolean tls = scheme.equals("https");
    this.host = uri.getHost();
    this.port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
    this.hostHeader = uri.getPort() >= 0 ? host + ":" + port : host;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    this.authorization = token.isEmpty() ? null : "Bearer " + token;
    this.timeout = timeout;
    SslContext ssl = tls ? sslContext() : null;
    boolean epoll = Epoll.isAvailable();
    this.group = epoll ? new EpollEventLoopGroup(1, new DefaultThreadFactory("storm-http", true))
        : new NioEventLoopGroup(1, new DefaultThreadFactory("storm-http", true));
    this.loop = group.next();
    this.bootstrap = new Bootstrap().group(group)
        .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel channel) {
            if (ssl != null) {
              channel.pipeline().addLast(ssl.newHandler(channel.alloc(), host, port));
            }
            channel.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_BODY), new Answers());
          }
        });
  }

  /**
   * Sends one request on an idle connection, or a new one; the answer completes on the loop. The
   * caller bounds how many are in flight, and so how many connections there are.
   */
  CompletableFuture<Response> send(String method, String path, String body) {
    return send(method, path, body, null);
  }

  /** As {@link #send(String, String, String)}, with {@code Idempotency-Key: key} unless it is null. */
  CompletableFuture<Response> send(String method, String path, String body, String key) {
    CompletableFuture<Response> answer = new CompletableFuture<>();
    FullHttpRequest request = request(method, path, body);
    if (key != null) {
      request.headers().set("Idempotency-Key", key);
    }
    if (loop.inEventLoop()) {
      dispatch(request, answer);
    } else {
      loop.execute(() -> dispatch(request, answer));
    }
    return answer;
  }

  private FullHttpRequest request(String method, String path, String body) {
    ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
        basePath + path, content);
    request.headers().set(HttpHeaderNames.HOST, hostHeader)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    if (body != null) {
      request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    }
    if (authorization != null) {
      request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
    }
    return request;
  }

  private void dispatch(FullHttpRequest request, CompletableFuture<Response> answer) {
    Channel channel;
    while ((channel = idle.pollLast()) != null) { // the most recently used: the others may idle out
      if (channel.isActive()) {
        write(channel, request, answer);
        return;
      }
    }
    ChannelFuture connected = bootstrap.connect(host, port);
    connected.addListener(done -> {
      if (done.isSuccess()) {
        write(connected.channel(), request, answer);
      } else {
        request.release();
        answer.completeExceptionally(done.cause());
      }
    });
  }

  private void write(Channel channel, FullHttpRequest request, CompletableFuture<Response> answer) {
    Answers answers = channel.pipeline().get(Answers.class);
    answers.expect(channel, answer);
    channel.writeAndFlush(request).addListener(written -> {
      if (!written.isSuccess()) {
        answers.fail(written.cause());
        channel.close();
      }
    });
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static SslContext sslContext() {
    try {
      return SslContextBuilder.forClient().build();
    } catch (SSLException e) {
      throw new IllegalStateException("no TLS for https:// URLs: " + e.getMessage(), e);
    }
  }

  /** One connection's request in flight: its answer, and the timer that gives up on it. */
  private final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
    private CompletableFuture<Response> pending;
    private ScheduledFuture<?> timer;

    void expect(Channel channel, CompletableFuture<Response> answer) {
      pending = answer;
      timer = channel.eventLoop().schedule(() -> {
        fail(new TimeoutException("no answer within " + timeout.toMillis() + " ms"));
        channel.close(); // its late answer must not be taken for the next request's
      }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      CompletableFuture<Response> answer = take();
      if (answer == null) {
        ctx.close(); // an answer nobody asked for: the connection is out of step
        return;
      }
      boolean reusable = HttpUtil.isKeepAlive(response);
      if (reusable) {
        idle.addLast(ctx.channel()); // before the answer, so the request it leads to can take it
      } else {
        ctx.close();
      }
      answer.complete(new Response(response.status().code(), response.content().toString(StandardCharsets.UTF_8)));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      idle.remove(ctx.channel());
      fail(new IOException("the node closed the connection"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(cause);
      ctx.close();
    }

    void fail(Throwable cause) {
      CompletableFuture<Response> answer = take();
      if (answer != null) {
        answer.completeExceptionally(cause);
      }
    }

    private CompletableFuture<Response> take() {
      CompletableFuture<Response> answer = pending;
      pending = null;
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
      return answer;
    }
  }
}

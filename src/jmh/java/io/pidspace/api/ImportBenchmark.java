package io.pidspace.api;

import com.typesafe.config.ConfigFactory;
import io.pidspace.core.SpaceImage;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.roaringbitmap.RoaringBitmap;

/**
 * One durable import (issue 11: under 2 s) of a space of 4,194,304 vpids with 1,000,000 live
 * ones at random places (no runs for the bitmap to compress), through the facade on an H2 file
 * journal: the image checked, the registry's intent stored with it, the space's one event
 * stored and applied. Each invocation imports into a fresh space id; the time is per import.
 *
 * <pre>
 * mvn -B -q -Pjmh test-compile exec:exec -Djmh.args="ImportBenchmark -f 1 -wi 2 -i 5"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ImportBenchmark {

  PidAuthority authority;
  Path dataDir;
  SpaceImage image;
  int nextId = 1;

  @Setup(Level.Trial)
  public void start() throws Exception {
    dataDir = Files.createTempDirectory("pidspace-import-bench");
    authority = PidAuthority.start(ConfigFactory.parseMap(Map.of(
        "pidspace.persistence", "jdbc",
        "pidspace.data-dir", dataDir.toString())));
    Random random = new Random(11);
    RoaringBitmap live = new RoaringBitmap();
    while (live.getCardinality() < 1_000_000) {
      live.add(1 + random.nextInt(4_194_303));
    }
    ByteBuffer bytes = ByteBuffer.allocate(live.serializedSizeInBytes());
    live.serialize(bytes);
    image = new SpaceImage(SpaceImage.FORMAT, 22, 4_194_304, live.last(), bytes.array(), List.of(), 0, 0, null, null);
  }

  @TearDown(Level.Trial)
  public void stop() {
    authority.close();
  }

  @Benchmark
  public int importSpace() throws Exception {
    return authority.importSpace(nextId++, image).toCompletableFuture().get(60, TimeUnit.SECONDS).allocated();
  }
}

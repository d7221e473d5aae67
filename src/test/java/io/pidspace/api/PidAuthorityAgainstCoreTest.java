package io.pidspace.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The actor path against the pure core: one random sequence of creates, allocs, frees (of live
 * and bogus pids), lookups, destroys, alloc-ats, holds and their releases, pid_max changes and
 * export-then-import copies, run through a fresh {@link PidAuthority} and through
 * {@link PidMap}s held directly, must give the same pids and the same refusals step by step.
 *
 * <p>Shift 24 leaves 128 space ids, so the sequence runs out of them; pid_max 400 makes spaces
 * fill up and wrap (space 0 restarts at its reserved floor, 300).
 */
class PidAuthorityAgainstCoreTest {

  private static final long SEED = 20_060_401;
  private static final int STEPS = 4_000;
  private static final int PID_MAX = 400;
  /** Far beyond the test's run: no hold expires while the model does not expire them. */
  private static final java.time.Duration HOLD_TTL = java.time.Duration.ofHours(1);
  private static final PidAuthority authority = PidAuthority.start(ConfigFactory.parseString(
      "pidspace { shift = 24, pid-max = " + PID_MAX + ", max-batch = 64 }\n"
          + "akka.actor.serialize-messages = on"));

  @AfterAll
  static void shutdown() {
    authority.close();
  }

  @Test
  void randomSequence_throughActorsAndThroughCore_answersAlike() {
    Core core = new Core(authority.layout(), PID_MAX, authority.settings().maxBatch());
    Random random = new Random(SEED);
    List<Integer> pidsSeen = new ArrayList<>(); // live, freed and destroyed: frees of them hit every refusal
    Map<String, Integer> answersByKind = new TreeMap<>();

    for (int step = 0; step < STEPS; step++) {
      Step next = nextStep(random, core, pidsSeen);
      String expected = answer(next.core);
      String actual = answer(next.actors);
      assertEquals(expected, actual, "step " + step + " (seed " + SEED + "): " + next.description);
      collectPids(actual, pidsSeen);
      String outcome = actual.endsWith(" refused") ? actual.split(" ")[0] : "ok";
      answersByKind.merge(next.description.split(" ")[0] + " -> " + outcome, 1, Integer::sum);
    }

    for (String kind : List.of("createSpace -> ok", "createSpace -> no-space-ids-left", "createSpace -> space-id-in-use",
        "createSpace -> out-of-range", "destroySpace -> ok", "destroySpace -> default-space",
        "alloc -> ok", "alloc -> space-exhausted", "alloc -> unknown-space", "alloc -> bad-request",
        "free -> ok", "free -> not-allocated", "free -> unknown-space", "free -> reserved-pid", "free -> out-of-range",
        "freeBatch -> ok", "lookup -> ok", "stats -> ok",
        "allocAt -> ok", "allocAt -> pid-in-use", "allocAt -> pid-held", "allocAt -> out-of-range",
        "allocAt -> unknown-hold", "allocAt -> bad-request", "hold -> ok", "hold -> pid-held", "release -> ok",
        "release -> unknown-hold", "setPidMax -> ok", "setPidMax -> pid-in-use", "setPidMax -> out-of-range",
        "exportImport -> ok")) {
      assertTrue(answersByKind.containsKey(kind), () -> "the sequence never reached '" + kind + "': " + answersByKind);
    }
  }

  /** One request, as the facade and the core model each run it. */
  private record Step(String description, Supplier<String> actors, Supplier<String> core) {}

  private static Step nextStep(Random random, Core core, List<Integer> pidsSeen) {
    PidLayout layout = core.layout;
    if (random.nextInt(100) < 20) {
      return exactStep(random, core);
    }
    int roll = random.nextInt(100);
    if (roll < 8) {
      int pidMax = pickPidMax(random, layout);
      return new Step("createSpace any " + pidMax,
          () -> stats(authority.createSpace(PidAuthority.ANY_ID, pidMax)),
          () -> core.create(PidAuthority.ANY_ID, pidMax).toString());
    }
    if (roll < 11) {
      int id = random.nextBoolean() ? -2 - random.nextInt(3) : random.nextInt(layout.maxSpaces() + 3);
      int pidMax = pickPidMax(random, layout);
      return new Step("createSpace " + id + " " + pidMax,
          () -> stats(authority.createSpace(id, pidMax)),
          () -> core.create(id, pidMax).toString());
    }
    if (roll < 15) {
      int id = random.nextInt(5) == 0 ? random.nextInt(layout.maxSpaces() + 3) - 1 : pickSpace(random, core);
      return new Step("destroySpace " + id,
          () -> done(authority.destroySpace(id)),
          () -> core.destroy(id));
    }
    if (roll < 45) {
      int space = random.nextInt(10) == 0 ? random.nextInt(layout.maxSpaces() + 3) - 2 : pickSpace(random, core);
      return new Step("alloc " + space,
          () -> String.valueOf(await(authority.alloc(space))),
          () -> String.valueOf(core.alloc(space, 1)[0]));
    }
    if (roll < 55) {
      int space = pickSpace(random, core);
      int count = random.nextInt(20) == 0 ? random.nextInt(3) - 1 : 1 + random.nextInt(40);
      return new Step("alloc " + space + " x" + count,
          () -> Arrays.toString(await(authority.alloc(space, count))),
          () -> Arrays.toString(core.alloc(space, count)));
    }
    if (roll < 85) {
      int pid = pickPid(random, layout, pidsSeen);
      return new Step("free " + pid,
          () -> done(authority.free(pid)),
          () -> core.free(pid));
    }
    if (roll < 92) {
      int[] pids = new int[1 + random.nextInt(8)];
      for (int i = 0; i < pids.length; i++) {
        pids[i] = i > 0 && random.nextInt(6) == 0 ? pids[i - 1] : pickPid(random, layout, pidsSeen);
      }
      return new Step("freeBatch " + Arrays.toString(pids),
          () -> describe(await(authority.free(pids))),
          () -> describe(core.freeBatch(pids)));
    }
    if (roll < 97) {
      int pid = pickPid(random, layout, pidsSeen);
      return new Step("lookup " + pid,
          () -> await(authority.lookup(pid)).toString(),
          () -> core.lookup(pid));
    }
    int space = pickSpace(random, core);
    return new Step("stats " + space,
        () -> await(authority.stats(space)).toString(),
        () -> core.stats(space).toString());
  }

  /** Issue 11's requests: exact vpids (often taken or held), holds, releases, pid_max, a copy by export and import. */
  private static Step exactStep(Random random, Core core) {
    int space = pickSpace(random, core);
    int roll = random.nextInt(100);
    if (roll < 45) {
      int[] vpids = pickVpids(random);
      int hold = random.nextInt(4) == 0 ? random.nextInt(6) : 0;
      return new Step("allocAt " + space + " " + Arrays.toString(vpids) + " hold " + hold,
          () -> Arrays.toString(await(authority.allocAt(space, vpids, hold))),
          () -> Arrays.toString(core.allocAt(space, vpids, hold)));
    }
    if (roll < 65) {
      int[] vpids = pickVpids(random);
      return new Step("hold " + space + " " + Arrays.toString(vpids),
          () -> "hold " + await(authority.hold(space, vpids, HOLD_TTL)),
          () -> "hold " + core.hold(space, vpids));
    }
    if (roll < 78) {
      int hold = random.nextInt(6);
      return new Step("release " + space + " " + hold,
          () -> done(authority.release(space, hold)),
          () -> core.release(space, hold));
    }
    if (roll < 95) {
      int pidMax = random.nextInt(10) == 0 ? PidLayout.PID_MAX_MIN - 1 : PidLayout.PID_MAX_MIN + random.nextInt(700);
      return new Step("setPidMax " + space + " " + pidMax,
          () -> stats(authority.setPidMax(space, pidMax)),
          () -> core.setPidMax(space, pidMax).toString());
    }
    return new Step("exportImport " + space,
        () -> stats(authority.exportSpace(space).thenCompose(image -> authority.importSpace(PidAuthority.ANY_ID, image))),
        () -> core.exportImport(space).toString());
  }

  /** One to three vpids near the bottom of a space (often live or held), sometimes 0, a repeat or one past pid_max. */
  private static int[] pickVpids(Random random) {
    int[] vpids = new int[1 + random.nextInt(3)];
    for (int i = 0; i < vpids.length; i++) {
      int roll = random.nextInt(20);
      vpids[i] = roll == 0 ? 0 : roll == 1 ? 1_000 + random.nextInt(10) : roll == 2 && i > 0 ? vpids[0] : 1 + random.nextInt(60);
    }
    return vpids;
  }

  /** Mostly the default (0), sometimes a small bound, sometimes one out of range. */
  private static int pickPidMax(Random random, PidLayout layout) {
    return switch (random.nextInt(8)) {
      case 0 -> PidLayout.PID_MAX_MIN + random.nextInt(200);
      case 1 -> random.nextBoolean() ? PidLayout.PID_MAX_MIN - 1 : layout.pidMaxLimit() + 1;
      default -> 0;
    };
  }

  /** Mostly one of the lowest existing spaces, so that they fill up; sometimes one that does not exist. */
  private static int pickSpace(Random random, Core core) {
    List<Integer> ids = new ArrayList<>(core.spaces.keySet());
    return switch (random.nextInt(8)) {
      case 0 -> random.nextInt(core.layout.maxSpaces());
      case 1, 2, 3 -> ids.get(random.nextInt(ids.size()));
      default -> ids.get(random.nextInt(Math.min(3, ids.size())));
    };
  }

  /** A pid seen before (live or not), a reserved or unused vpid, or one outside every space. */
  private static int pickPid(Random random, PidLayout layout, List<Integer> pidsSeen) {
    int roll = random.nextInt(20);
    if (roll < 15 && !pidsSeen.isEmpty()) {
      return pidsSeen.get(random.nextInt(pidsSeen.size()));
    }
    int space = random.nextInt(4); // low ids: the spaces that exist most of the time
    return switch (roll % 4) {
      case 0 -> layout.encode(space, 0);
      case 1 -> layout.encode(space, PID_MAX + random.nextInt(10));
      case 2 -> -1 - random.nextInt(1_000);
      default -> layout.encode(space, 1 + random.nextInt(PID_MAX - 1));
    };
  }

  private static void collectPids(String answer, List<Integer> pidsSeen) {
    if (answer.matches("\\d+")) {
      pidsSeen.add(Integer.parseInt(answer));
    } else if (answer.startsWith("[")) {
      for (String pid : answer.substring(1, answer.length() - 1).split(", ")) {
        pidsSeen.add(Integer.parseInt(pid));
      }
    }
  }

  // --- answers as comparable text: a value, or "<code> refused" ---

  private static String answer(Supplier<String> request) {
    try {
      return request.get();
    } catch (PidspaceException refusal) {
      return refusal.code().wire() + " refused";
    }
  }

  /** The value of a facade answer; its refusal is thrown as the {@link PidspaceException} itself. */
  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof PidspaceException refusal) {
        throw refusal;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError("no answer", e);
    }
  }

  private static String stats(CompletionStage<SpaceStats> stage) {
    return await(stage).toString();
  }

  private static String done(CompletionStage<?> stage) {
    await(stage);
    return "ok";
  }

  /** Freed pids and refusals, each sorted: the facade joins the parts of spaces in any order. */
  private static String describe(FreeResult result) {
    int[] freed = result.freed().clone();
    Arrays.sort(freed);
    List<String> refused = result.refused().stream().map(r -> r.pid() + " " + r.code()).sorted().toList();
    return "freed " + Arrays.toString(freed) + " refused " + refused;
  }

  /**
   * The registry and router of DESIGN.md §1 over {@link PidMap}s: what the actors should answer.
   * Refusals are thrown as {@link PidspaceException}s, as the facade's are.
   */
  private static final class Core {
    final PidLayout layout;
    final int defaultPidMax;
    final int maxBatch;
    final TreeMap<Integer, PidMap> spaces = new TreeMap<>();

    Core(PidLayout layout, int defaultPidMax, int maxBatch) {
      this.layout = layout;
      this.defaultPidMax = defaultPidMax;
      this.maxBatch = maxBatch;
      spaces.put(PidLayout.DEFAULT_SPACE, PidMap.create(layout, PidLayout.DEFAULT_SPACE, defaultPidMax));
    }

    SpaceStats create(int requested, int pidMax) {
      int id = requested;
      if (requested == PidAuthority.ANY_ID) {
        id = 1;
        while (spaces.containsKey(id)) {
          id++;
        }
        if (id >= layout.maxSpaces()) {
          throw new PidspaceException(PidspaceException.Code.NO_SPACE_IDS_LEFT, "all ids in use");
        }
      } else {
        layout.checkSpace(requested);
        if (spaces.containsKey(requested)) {
          throw new PidspaceException(PidspaceException.Code.SPACE_ID_IN_USE, "in use");
        }
      }
      PidMap map = PidMap.create(layout, id, pidMax == 0 ? defaultPidMax : layout.checkPidMax(pidMax));
      spaces.put(id, map);
      return map.stats();
    }

    String destroy(int id) {
      if (id == PidLayout.DEFAULT_SPACE) {
        throw new PidspaceException(PidspaceException.Code.DEFAULT_SPACE, "space 0");
      }
      if (spaces.remove(id) == null) {
        throw PidspaceException.unknownSpace(id);
      }
      return "ok";
    }

    int[] alloc(int space, int count) {
      PidMap map = existing(layout.checkSpace(space));
      if (count < 1 || count > maxBatch) {
        throw PidspaceException.badRequest("count " + count);
      }
      int[] vpids = new int[count];
      int n = map.alloc(count, vpids);
      if (n == 0) {
        throw PidspaceException.exhausted(space, map.pidMax());
      }
      return Arrays.stream(vpids, 0, n).map(v -> layout.encode(space, v)).toArray();
    }

    String free(int pid) {
      existing(layout.spaceOf(layout.checkPid(pid))).free(layout.vpidOf(pid));
      return "ok";
    }

    /** Each pid in turn, as {@link #free}; a pid named twice is freed once. */
    FreeResult freeBatch(int[] pids) {
      List<Integer> freed = new ArrayList<>();
      List<FreeResult.Refusal> refused = new ArrayList<>();
      for (int pid : pids) {
        try {
          free(pid);
          freed.add(pid);
        } catch (PidspaceException refusal) {
          refused.add(FreeResult.Refusal.of(pid, refusal));
        }
      }
      return new FreeResult(freed.stream().mapToInt(Integer::intValue).toArray(), refused);
    }

    int[] allocAt(int space, int[] vpids, int hold) {
      layout.checkSpace(space);
      PidspaceException refusal = existing(space).draft().allocAt(vpids, hold);
      if (refusal != null) {
        throw refusal;
      }
      return Arrays.stream(vpids).map(v -> layout.encode(space, v)).toArray();
    }

    int hold(int space, int[] vpids) {
      layout.checkSpace(space);
      return existing(space).draft().hold(vpids, Long.MAX_VALUE);
    }

    String release(int space, int hold) {
      layout.checkSpace(space);
      if (hold < 1) {
        throw PidspaceException.unknownHold(space, hold);
      }
      PidspaceException refusal = existing(space).draft().release(hold);
      if (refusal != null) {
        throw refusal;
      }
      return "ok";
    }

    SpaceStats setPidMax(int space, int pidMax) {
      layout.checkSpace(space);
      layout.checkPidMax(pidMax);
      PidMap map = existing(space);
      map.draft().setPidMax(pidMax);
      return map.stats();
    }

    /** The space copied whole into the lowest free id. */
    SpaceStats exportImport(int space) {
      layout.checkSpace(space);
      io.pidspace.core.SpaceImage image = existing(space).image();
      int id = 1;
      while (spaces.containsKey(id)) {
        id++;
      }
      if (id >= layout.maxSpaces()) {
        throw new PidspaceException(PidspaceException.Code.NO_SPACE_IDS_LEFT, "all ids in use");
      }
      PidMap copy = PidMap.fromImage(layout, id, image);
      spaces.put(id, copy);
      return copy.stats();
    }

    String lookup(int pid) {
      int space = layout.spaceOf(layout.checkPid(pid));
      int vpid = layout.vpidOf(pid);
      return new PidInfo(pid, space, vpid, existing(space).isAllocated(vpid)).toString();
    }

    SpaceStats stats(int space) {
      return existing(layout.checkSpace(space)).stats();
    }

    private PidMap existing(int space) {
      PidMap map = spaces.get(space);
      if (map == null) {
        throw PidspaceException.unknownSpace(space);
      }
      return map;
    }
  }
}

package io.pidspace.storm;

import io.pidspace.core.PidLayout;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wraps a target and checks the storm's model as it runs: no global pid is handed out while it
 * is live, a process frees only its own live pid, and a space is destroyed only once. A pid stops
 * being live when its free is sent, so that a quick reuse is not mistaken for a duplicate.
 */
class CheckingTarget implements StormTarget {

  final StormTarget target;
  final Set<Integer> live = ConcurrentHashMap.newKeySet();
  final Set<Integer> spaces = ConcurrentHashMap.newKeySet();
  final Set<Integer> everCreated = ConcurrentHashMap.newKeySet();
  final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
  final AtomicLong created = new AtomicLong();
  final AtomicLong allocs = new AtomicLong();
  final AtomicLong frees = new AtomicLong();
  final AtomicLong diedWithContainer = new AtomicLong();

  CheckingTarget(StormTarget target) {
    this.target = target;
  }

  @Override
  public String name() {
    return target.name();
  }

  @Override
  public CompletionStage<Integer> createSpace(int pidMax) {
    return target.createSpace(pidMax).whenComplete((id, failure) -> {
      if (id != null && !spaces.add(id)) {
        violations.add("space " + id + " created while it exists");
      }
      if (id != null) {
        everCreated.add(id);
        created.incrementAndGet();
      }
    });
  }

  @Override
  public CompletionStage<Void> destroySpace(int space) {
    if (!spaces.remove(space)) {
      violations.add("space " + space + " destroyed but not created");
    }
    List<Integer> dying = live.stream().filter(pid -> PidLayout.DEFAULT.spaceOf(pid) == space).toList();
    live.removeAll(dying);
    diedWithContainer.addAndGet(dying.size());
    return target.destroySpace(space);
  }

  @Override
  public CompletionStage<Integer> alloc(int space) {
    return target.alloc(space).whenComplete((pid, failure) -> {
      if (pid == null) {
        return;
      }
      allocs.incrementAndGet();
      if (PidLayout.DEFAULT.spaceOf(pid) != space) {
        violations.add("pid " + pid + " is not of space " + space);
      }
      if (!live.add(pid)) {
        violations.add("pid " + pid + " handed out while live");
      }
    });
  }

  @Override
  public CompletionStage<Void> free(int pid) {
    if (!live.remove(pid)) {
      violations.add("pid " + pid + " freed but not live");
    }
    return target.free(pid).whenComplete((done, failure) -> {
      if (failure == null) {
        frees.incrementAndGet();
      }
    });
  }

  @Override
  public void close() {
    target.close();
  }
}

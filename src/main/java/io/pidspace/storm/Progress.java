package io.pidspace.storm;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** How far one run is, in milliseconds of its (real or simulated) duration. */
public interface Progress extends AutoCloseable {

  void update(long doneMillis, String message);

  @Override
  void close();

  /** Opens a {@link Progress} for each run of a storm. */
  @FunctionalInterface
  interface Factory {
    Progress open(String task, long totalMillis);
  }

  Factory NONE = (task, totalMillis) -> new Progress() {
    @Override
    public void update(long doneMillis, String message) {}

    @Override
    public void close() {}
  };

  /** A progress bar on stderr: stdout belongs to the summary. */
  static Factory onStderr() {
    return (task, totalMillis) -> {
      ProgressBar bar = new ProgressBarBuilder()
          .setTaskName(task)
          .setInitialMax(totalMillis)
          .setUnit("s", 1000)
          .setStyle(ProgressBarStyle.ASCII)
          .setConsumer(new ConsoleProgressBarConsumer(System.err))
          .build();
      return new Progress() {
        @Override
        public void update(long doneMillis, String message) {
          bar.stepTo(Math.min(doneMillis, totalMillis));
          bar.setExtraMessage(message);
        }

        @Override
        public void close() {
          bar.stepTo(totalMillis);
          bar.close();
        }
      };
    };
  }
}

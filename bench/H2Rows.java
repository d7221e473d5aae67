import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * Prints the rows of a pidspace H2 journal's event_journal and snapshot tables while a node holds
 * the file open: {@code java -cp target/pidspace.jar bench/H2Rows.java DATA_DIR/pidspace}.
 * bench/soak.sh reads it every minute, since the file's bytes alone level off at H2's retention
 * (freed chunks are kept 45 s) long before its rows do.
 *
 * <p>The node locks the file, and H2's AUTO_SERVER, the supported way in, cannot be combined with
 * the node's DB_CLOSE_ON_EXIT=FALSE. So this opens it read-only through a file system whose lock
 * always succeeds: H2 then reads its newest complete chunk, which the node does not overwrite for
 * the retention time, and writes nothing (the channel is opened "r").
 */
public final class H2Rows {

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: java -cp target/pidspace.jar bench/H2Rows.java DATA_DIR/pidspace");
      System.exit(2);
    }
    FilePath.register(new Unlocked());
    String url = "jdbc:h2:unlocked:" + args[0] + ";ACCESS_MODE_DATA=r;TRACE_LEVEL_FILE=0;IFEXISTS=TRUE";
    try (Connection connection = DriverManager.getConnection(url, "sa", "");
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(
            "SELECT (SELECT count(*) FROM \"event_journal\"), (SELECT count(*) FROM \"snapshot\")")) {
      rows.next();
      System.out.println(rows.getLong(1) + " " + rows.getLong(2));
    }
  }

  /** {@code unlocked:PATH}: PATH opened read-only, with a lock that never refuses. */
  public static final class Unlocked extends FilePathWrapper {
    @Override
    public String getScheme() {
      return "unlocked";
    }

    @Override
    public FileChannel open(String mode) throws IOException {
      return new ReadOnly(getBase().open("r"));
    }
  }

  private static final class ReadOnly extends FileBase {
    private final FileChannel file;

    ReadOnly(FileChannel file) {
      this.file = file;
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) {
      return new FileLock(this, position, size, shared) {
        @Override
        public boolean isValid() {
          return file.isOpen();
        }

        @Override
        public void release() {}
      };
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return file.read(dst, position);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return file.read(dst);
    }

    @Override
    public long position() throws IOException {
      return file.position();
    }

    @Override
    public FileChannel position(long position) throws IOException {
      file.position(position);
      return this;
    }

    @Override
    public long size() throws IOException {
      return file.size();
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      throw new IOException("read-only");
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      throw new IOException("read-only");
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      throw new IOException("read-only");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return file.map(mode, position, size);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      throw new IOException("read-only");
    }

    @Override
    protected void implCloseChannel() throws IOException {
      file.close();
    }
  }
}

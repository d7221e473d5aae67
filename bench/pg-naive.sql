-- The pid allocator a platform team would hand-roll on PostgreSQL: the rule of
-- ../shared/peers/redis/alloc.lua (next-fit: the lowest free vpid above the space's last one,
-- below pid_max, else the lowest from the floor 300 up to the last one), one row per held pid and
-- one last-pid row per space. bench/pg-naive.sh loads this into a fresh database and calls
-- naive_alloc from pgbench, one transaction per alloc, synchronous_commit on.

CREATE TABLE naive_space (
  space int PRIMARY KEY,
  pid_max int NOT NULL,
  last_pid int NOT NULL -- the floor - 1 until the first alloc, as alloc.lua's missing key
);

-- The primary key is the index on (space, vpid) that both the search and the insert use.
CREATE TABLE naive_pid (
  space int NOT NULL REFERENCES naive_space,
  vpid int NOT NULL,
  PRIMARY KEY (space, vpid)
);

-- The lowest free vpid in [lo, hi], or NULL. A gap query on the index: lo itself when it is free,
-- else one past the first held vpid from lo on whose successor is free. (The other natural form,
-- an anti-join against generate_series(lo, hi) with LIMIT 1, is not one: PostgreSQL materializes
-- a set-returning function in FROM whole, 4 million rows per alloc.)
CREATE FUNCTION naive_lowest_free(s int, lo int, hi int) RETURNS int LANGUAGE sql STABLE AS $$
  SELECT v FROM (
    SELECT lo AS v WHERE NOT EXISTS (SELECT 1 FROM naive_pid WHERE space = s AND vpid = lo)
    UNION ALL
    (SELECT p.vpid + 1 FROM naive_pid p
      WHERE p.space = s AND p.vpid >= lo
        AND NOT EXISTS (SELECT 1 FROM naive_pid q WHERE q.space = s AND q.vpid = p.vpid + 1)
      ORDER BY p.vpid LIMIT 1)
  ) free WHERE v <= hi AND lo <= hi LIMIT 1
$$;

-- One alloc: the space's row locked for the transaction (FOR UPDATE), so concurrent allocs of
-- one space take turns and never hand out a vpid twice. Returns the vpid, or -1 when the space is
-- full, as alloc.lua does.
CREATE FUNCTION naive_alloc(s int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  floor_vpid constant int := 300;
  max_vpid int;
  last_vpid int;
  v int;
BEGIN
  SELECT pid_max - 1, last_pid INTO max_vpid, last_vpid FROM naive_space WHERE space = s FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no space %', s;
  END IF;
  v := naive_lowest_free(s, greatest(last_vpid + 1, floor_vpid), max_vpid);
  IF v IS NULL THEN
    v := naive_lowest_free(s, floor_vpid, least(last_vpid, max_vpid));
  END IF;
  IF v IS NULL THEN
    RETURN -1;
  END IF;
  INSERT INTO naive_pid VALUES (s, v);
  UPDATE naive_space SET last_pid = v WHERE space = s;
  RETURN v;
END
$$;

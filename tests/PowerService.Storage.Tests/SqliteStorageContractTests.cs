using Microsoft.Data.Sqlite;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;
using PowerService.TestSupport;

namespace PowerService.Storage.Tests;

public sealed class SqliteStorageContractTests : StorageContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "powerservice-sqlite-" + Guid.NewGuid().ToString("N"));
    private SqliteConnection? _exclusiveLock;

    // The file sits in a folder that does not exist yet: the provider must create it.
    private string DatabaseFile => Path.Combine(_directory, "data", "powerservice.db");

    protected override IStorageProvider CreateProvider() =>
        new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = $"Data Source={DatabaseFile}", TimeProvider = Clock });

    protected override async Task<IReadOnlyList<int>> ReadAppliedMigrationsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={DatabaseFile};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM schema_migrations ORDER BY version";
        var versions = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }
        return versions;
    }

    [Fact]
    public async Task A_second_silo_on_the_same_file_is_refused_until_the_first_lets_the_store_go()
    {
        var first = CreateProvider();
        await first.InitializeAsync();
        await first.WriteStatesAsync([new StateWrite(Grain("kept"), 0, Bytes("state"))]);

        var second = Track(CreateProvider());
        var refused = await Assert.ThrowsAsync<PowerService.Runtime.StorageUnavailableException>(() => second.InitializeAsync());

        Assert.Contains("in use by another silo", refused.Message, StringComparison.Ordinal);
        await first.DisposeAsync();
        var next = Track(CreateProvider());
        await next.InitializeAsync();
        Assert.NotNull(await next.ReadStateAsync(Grain("kept")));
    }

    [Fact]
    public async Task A_second_silo_naming_the_same_file_another_way_is_refused_too()
    {
        var first = Track(CreateProvider());
        await first.InitializeAsync();
        var linked = Path.Combine(_directory, "linked");
        Directory.CreateSymbolicLink(linked, Path.GetDirectoryName(DatabaseFile)!);

        foreach (var dataSource in new[] { "file:" + DatabaseFile, $"file://{DatabaseFile}?cache=private", Path.Combine(linked, "powerservice.db") })
        {
            var second = Track(new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = $"Data Source={dataSource}", TimeProvider = Clock }));
            var refused = await Assert.ThrowsAsync<PowerService.Runtime.StorageUnavailableException>(() => second.InitializeAsync());
            Assert.Contains("in use by another silo", refused.Message, StringComparison.Ordinal);
        }
    }

    // A short busy timeout: the outage is another connection holding the write lock, and the write gives up after it.
    protected override async Task<(IStorageProvider Storage, string Location)> OpenOutageStoreAsync()
    {
        var storage = new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={DatabaseFile}",
            BusyTimeout = TimeSpan.FromMilliseconds(200),
            TimeProvider = Clock,
        });
        await storage.InitializeAsync();
        return (storage, DatabaseFile);
    }

    protected override async Task TakeStoreDownAsync()
    {
        _exclusiveLock = new SqliteConnection($"Data Source={DatabaseFile};Pooling=False");
        await _exclusiveLock.OpenAsync();
        await using var command = _exclusiveLock.CreateCommand();
        command.CommandText = "BEGIN EXCLUSIVE";
        await command.ExecuteNonQueryAsync();
    }

    protected override async Task BringStoreBackAsync()
    {
        if (_exclusiveLock is null)
        {
            return;
        }
        await using (var command = _exclusiveLock.CreateCommand())
        {
            command.CommandText = "ROLLBACK";
            await command.ExecuteNonQueryAsync();
        }
        await _exclusiveLock.DisposeAsync();
        _exclusiveLock = null;
    }

    [Fact]
    public async Task Committed_writes_reach_the_database_file_without_the_writer_checkpointing()
    {
        await using IStorageProvider storage = new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={DatabaseFile}",
            CheckpointInterval = TimeSpan.FromMilliseconds(50),
            TimeProvider = Clock,
        });
        await storage.InitializeAsync();
        var before = new FileInfo(DatabaseFile).Length;

        // 2 MB of state lands in the write-ahead log first; the database file grows only when a checkpoint copies it.
        var outcomes = await storage.WriteStatesAsync([new StateWrite(new("WorkOrder", "large"), 0, new byte[2 * 1024 * 1024])]);

        Assert.True(outcomes[0].Applied);
        await Eventually.True(() => new FileInfo(DatabaseFile).Length >= before + 2 * 1024 * 1024,
            "the 2 MB state was copied into the database file by the background checkpoint");
        Assert.Equal(2 * 1024 * 1024, (await storage.ReadStateAsync(new("WorkOrder", "large")))!.Payload.Length);
    }

    [Fact]
    public async Task A_write_ahead_log_file_past_its_limit_is_emptied_once_writes_pause_and_nothing_written_is_lost()
    {
        await using IStorageProvider storage = new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={DatabaseFile}",
            CheckpointInterval = TimeSpan.FromMilliseconds(50),
            WalPagesLimit = 1_000,
            TimeProvider = Clock,
        });
        await storage.InitializeAsync();

        // One batch, so the log cannot restart between its writes: 10 × 512 KB is ~1,300 pages in the file, past 1,000
        // (not past four times it). The file is emptied in the first interval without a commit.
        await storage.WriteStatesAsync([.. Enumerable.Range(0, 10).Select(i => new StateWrite(new("WorkOrder", $"order-{i}"), 0, new byte[512 * 1024]))]);
        await Eventually.True(() => new FileInfo(DatabaseFile + "-wal").Length == 0, "the write-ahead log was truncated");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(512 * 1024, (await storage.ReadStateAsync(new("WorkOrder", $"order-{i}")))!.Payload.Length);
        }
    }

    [Fact]
    public async Task Under_writes_that_never_pause_a_log_past_its_limit_restarts_instead_of_being_emptied_under_the_writer()
    {
        const int limit = 2_000;
        await using IStorageProvider storage = new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={DatabaseFile}",
            CheckpointInterval = TimeSpan.FromMilliseconds(100), // a whole interval without a commit would empty the file
            WalPagesLimit = limit,
            TimeProvider = Clock,
        });
        await storage.InitializeAsync();
        var wal = DatabaseFile + "-wal";
        var firstRestarts = WalRestarts(wal);
        var (largest, shrank, next, written) = (0L, false, -1, 0);
        // A loaded machine (CI beside other test assemblies) may starve the four writers for a whole interval: the file
        // is then rightly emptied, so the test tells such a pause from a checkpoint that emptied it under the writes.
        var (lastCommit, longestPause) = (System.Diagnostics.Stopwatch.GetTimestamp(), TimeSpan.Zero);

        // Four writers keep the one SQLite writer busy, so the log is never copied whole between two commits by itself.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) is var i && i < 1_200 && (i < 200 || WalRestarts(wal) - firstRestarts < 2))
            {
                await storage.WriteStatesAsync([new StateWrite(new("WorkOrder", $"order-{i}"), 0, new byte[64 * 1024])]);
                lock (wal)
                {
                    longestPause = TimeSpan.FromTicks(Math.Max(longestPause.Ticks, System.Diagnostics.Stopwatch.GetElapsedTime(lastCommit).Ticks));
                    lastCommit = System.Diagnostics.Stopwatch.GetTimestamp();
                    var length = new FileInfo(wal).Length;
                    written = Math.Max(written, i);
                    shrank |= length < largest;
                    largest = Math.Max(largest, length);
                }
            }
        })));

        Assert.True(WalRestarts(wal) - firstRestarts >= 2, "the log restarted from its beginning while the writes went on");
        Assert.False(shrank && longestPause < TimeSpan.FromMilliseconds(100),
            $"the log file was never emptied under the writer (a TRUNCATE checkpoint blocks writes); longest pause between commits {longestPause.TotalMilliseconds:0} ms");
        Assert.True(largest < 4L * limit * 4_096, $"the log stayed under four times its limit ({largest:N0} bytes)");
        foreach (var i in new[] { 0, 199, written })
        {
            Assert.Equal(64 * 1024, (await storage.ReadStateAsync(new("WorkOrder", $"order-{i}")))!.Payload.Length);
        }
    }

    [Fact]
    public async Task Writes_go_on_while_a_reader_keeps_a_log_past_its_limit_from_restarting()
    {
        const int limit = 200;
        await using IStorageProvider storage = new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={DatabaseFile}",
            BusyTimeout = TimeSpan.FromSeconds(30),
            CheckpointInterval = TimeSpan.FromMilliseconds(20),
            WalPagesLimit = limit,
            TimeProvider = Clock,
        });
        await storage.InitializeAsync();

        // A reader's snapshot pins the log: no checkpoint copies what was committed after it began, and one that waits
        // for it (TRUNCATE) would hold every write for the busy timeout. The log is pinned just past its limit, far from
        // four times it (where a TRUNCATE that waits is the fallback).
        await using var reader = new SqliteConnection($"Data Source={DatabaseFile};Pooling=False");
        await reader.OpenAsync();
        var pinned = false;
        for (var attempt = 0; attempt < 50 && !pinned; attempt++)
        {
            await Execute(reader, "BEGIN; SELECT count(*) FROM grain_state;");
            await storage.WriteStatesAsync([new StateWrite(new("WorkOrder", $"before-{attempt}"), 0, new byte[100 * 1024])]);
            pinned = PassiveCheckpoint() is (var log, var copied) && copied < log && log > limit;
            if (!pinned)
            {
                await Execute(reader, "COMMIT");
            }
        }
        Assert.True(pinned, "a reader holds a snapshot inside the log");

        var writes = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await storage.WriteStatesAsync([new StateWrite(new("WorkOrder", $"while-read-{i}"), 0, new byte[1024])]);
                await Task.Delay(20); // a checkpoint tick between writes
            }
        });

        Assert.True(await Task.WhenAny(writes, Task.Delay(TimeSpan.FromSeconds(10))) == writes, "the writes went on while the reader held its snapshot");
        await Execute(reader, "COMMIT");
        await writes;
        Assert.NotNull(await storage.ReadStateAsync(new("WorkOrder", "while-read-9")));
    }

    private static async Task Execute(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private (long Log, long Copied) PassiveCheckpoint()
    {
        using var connection = new SqliteConnection($"Data Source={DatabaseFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var result = command.ExecuteReader();
        result.Read();
        return (result.GetInt64(1), result.GetInt64(2));
    }

    /// <summary>The write-ahead log header's checkpoint sequence (bytes 12–15, big-endian): SQLite counts one each time
    /// the log starts over from its beginning.</summary>
    private static long WalRestarts(string wal)
    {
        using var file = new FileStream(wal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> header = stackalloc byte[16];
        return file.Read(header) == 16 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[12..]) : 0;
    }

    [Fact]
    public async Task Writes_callers_wait_on_commit_before_queued_write_behind_which_is_still_not_starved()
    {
        await using IStorageProvider storage = CreateProvider();
        await storage.InitializeAsync();
        var release = new TaskCompletionSource();
        // An import that waits for its rows holds the one writer: everything below queues behind it.
        var import = storage.ImportCatalogAsync("feeder", null, RowsAfter(release.Task));
        var background = storage.WriteStatesAsync([Write("behind", "B")], WriteUrgency.Background);
        var awaited = Enumerable.Range(1, 6).Select(i => storage.WriteStatesAsync([Write($"order-{i}", $"A{i}")])).ToList();
        await Task.Delay(100);
        Assert.False(background.IsCompleted, "the write-behind waited for the import");

        release.SetResult();
        await import;
        await Task.WhenAll([background, .. awaited]);

        var order = (await storage.ReadAllEventsAsync(0, 10)).Select(e => e.EventType).ToList();
        Assert.Equal(7, order.Count);
        Assert.True(order.IndexOf("A1") < order.IndexOf("B"), $"a write a caller waits on went first: {string.Join(", ", order)}");
        Assert.True(order.IndexOf("B") < order.IndexOf("A6"), $"the write-behind was not left until every awaited write was done: {string.Join(", ", order)}");

        static StateWrite Write(string key, string eventType) =>
            new(new("WorkOrder", key), 0, [1], [new JournalEvent(key, eventType, DateTimeOffset.UnixEpoch, null, null, "{}")]);

        static async IAsyncEnumerable<CatalogEntry> RowsAfter(Task gate)
        {
            await gate;
            yield return new CatalogEntry("F1", null, "{}");
        }
    }

    [Fact]
    public async Task Closing_the_store_commits_every_write_queued_before_and_refuses_writes_after()
    {
        var storage = CreateProvider();
        await storage.InitializeAsync();
        var queued = Enumerable.Range(0, 50)
            .Select(i => storage.WriteStatesAsync([new StateWrite(new("WorkOrder", $"order-{i}"), 0, [(byte)i])], i % 2 == 0 ? WriteUrgency.Awaited : WriteUrgency.Background))
            .ToList();

        await storage.DisposeAsync();

        Assert.All(queued, write => Assert.True(write.IsCompletedSuccessfully));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteStatesAsync([new StateWrite(new("WorkOrder", "late"), 0, [1])]));
        await using var reopened = CreateProvider();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal([(byte)i], (await reopened.ReadStateAsync(new("WorkOrder", $"order-{i}")))!.Payload);
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_exclusiveLock is not null)
        {
            await _exclusiveLock.DisposeAsync();
        }
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

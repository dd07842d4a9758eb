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
    public async Task A_write_ahead_log_past_its_limit_is_emptied_and_nothing_written_is_lost()
    {
        await using IStorageProvider storage = new SqliteStorageProvider(new SqliteStorageOptions
        {
            ConnectionString = $"Data Source={DatabaseFile}",
            CheckpointInterval = TimeSpan.FromMilliseconds(50),
            WalPagesLimit = 64,
            TimeProvider = Clock,
        });
        await storage.InitializeAsync();

        for (var i = 0; i < 10; i++)
        {
            await storage.WriteStatesAsync([new StateWrite(new("WorkOrder", $"order-{i}"), 0, new byte[512 * 1024])]);
        }

        // 10 × 512 KB is ~1,300 pages, far past 64: the checkpointer truncates the log once it has copied it.
        await Eventually.True(() => new FileInfo(DatabaseFile + "-wal").Length == 0, "the write-ahead log was truncated");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(512 * 1024, (await storage.ReadStateAsync(new("WorkOrder", $"order-{i}")))!.Payload.Length);
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

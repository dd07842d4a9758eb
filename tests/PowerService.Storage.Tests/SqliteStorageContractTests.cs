using Microsoft.Data.Sqlite;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;

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

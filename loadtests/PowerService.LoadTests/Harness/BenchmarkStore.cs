using Microsoft.Data.Sqlite;
using Npgsql;
using PowerService.Runtime.Storage;
using PowerService.Storage.PostgreSql;
using PowerService.Storage.Sqlite;
using PowerService.TestSupport;

namespace PowerService.LoadTests.Harness;

/// <summary>Where a benchmark's silo keeps its data: SQLite files in a temp folder, or a throwaway PostgreSQL cluster
/// (fsync on). Each benchmark asks for a fresh database so earlier runs never weigh on it.</summary>
internal sealed class BenchmarkStore : IAsyncDisposable
{
    private readonly string? _folder;
    private readonly PostgresCluster? _cluster;

    private BenchmarkStore(string kind, string? folder, PostgresCluster? cluster, string settings, SqliteSynchronous synchronous = SqliteSynchronous.Full)
    {
        Kind = kind;
        _folder = folder;
        _cluster = cluster;
        Settings = settings;
        Synchronous = synchronous;
    }

    /// <summary>"sqlite", "sqlite-normal" (SQLite syncing at checkpoints only, to compare) or "postgres".</summary>
    public string Kind { get; }

    /// <summary>The SQLite store's <c>PRAGMA synchronous</c>.</summary>
    public SqliteSynchronous Synchronous { get; }

    /// <summary>The durability settings the figures were measured with.</summary>
    public string Settings { get; }

    /// <summary>Runs <paramref name="run"/> on a fresh store of each kind in turn. When no PostgreSQL cluster can be
    /// started, its part is reported as skipped and the other kinds still run.</summary>
    public static async Task ForEachAsync(IEnumerable<string> kinds, Func<BenchmarkStore, Task> run)
    {
        foreach (var kind in kinds)
        {
            BenchmarkStore store;
            try
            {
                store = await OpenAsync(kind);
            }
            catch (Exception error) when (kind == "postgres" && error is InvalidOperationException or TimeoutException or NpgsqlException)
            {
                Report.Line("");
                Report.Line($"postgres: SKIPPED, no PostgreSQL cluster could be started: {error.Message.Split('\n')[0]}");
                continue;
            }
            await using (store)
            {
                await run(store);
            }
        }
    }

    public static async Task<BenchmarkStore> OpenAsync(string kind)
    {
        switch (kind)
        {
            case "sqlite":
                var folder = Directory.CreateTempSubdirectory("powerservice-loadtest-").FullName;
                return new BenchmarkStore(kind, folder, null, $"SQLite file in {folder}, journal_mode=WAL, synchronous=FULL (the provider's default)");
            case "sqlite-normal":
                folder = Directory.CreateTempSubdirectory("powerservice-loadtest-").FullName;
                return new BenchmarkStore(kind, folder, null, $"SQLite file in {folder}, journal_mode=WAL, synchronous=NORMAL (Storage:Synchronous=normal)", SqliteSynchronous.Normal);
            case "postgres":
                var cluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { Fsync = true });
                try
                {
                    // An external server is taken on trust by the cluster: find out now, not halfway through a benchmark.
                    await using var connection = new NpgsqlConnection(cluster.ConnectionString);
                    await connection.OpenAsync();
                }
                catch
                {
                    await cluster.DisposeAsync();
                    throw;
                }
                var settings = cluster.IsExternal
                    ? $"external PostgreSQL server from {PostgresCluster.ExternalServerVariable} (its own settings)"
                    : "throwaway local PostgreSQL cluster: fsync=on, synchronous_commit=on, wal_sync_method default, shared_buffers=256MB";
                return new BenchmarkStore(kind, null, cluster, settings);
            default:
                throw new ArgumentException($"--store is 'sqlite', 'sqlite-normal' or 'postgres', not '{kind}'.");
        }
    }

    /// <summary>A provider over a new, empty database named <paramref name="name"/> (a-z, 0-9, '_').</summary>
    public async Task<BenchmarkDatabase> CreateDatabaseAsync(string name)
    {
        if (_cluster is not null)
        {
            var connectionString = await _cluster.CreateDatabaseAsync(name);
            return new BenchmarkDatabase(new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = connectionString }), connectionString);
        }
        var file = Path.Combine(_folder!, name + ".db");
        var sqlite = $"Data Source={file}";
        return new BenchmarkDatabase(new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = sqlite, Synchronous = Synchronous }), sqlite);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        if (_folder is not null)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // a handle may linger a moment; the OS cleans the temp folder
            }
        }
    }
}

internal sealed record BenchmarkDatabase(IStorageProvider Provider, string ConnectionString);

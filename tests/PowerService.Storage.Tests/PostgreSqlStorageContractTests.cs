using Npgsql;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using PowerService.Storage.PostgreSql;
using PowerService.TestSupport;

namespace PowerService.Storage.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlStorageContractTests(PostgresFixture postgres) : StorageContractTests
{
    private readonly string _database = "contract_" + Guid.NewGuid().ToString("N");
    private string _connectionString = "";
    private PostgresCluster? _outageCluster;

    public override async Task InitializeAsync() => _connectionString = await postgres.Cluster.CreateDatabaseAsync(_database);

    protected override IStorageProvider CreateProvider() =>
        new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = _connectionString, TimeProvider = Clock });

    protected override async Task<IReadOnlyList<int>> ReadAppliedMigrationsAsync()
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM schema_migrations ORDER BY version", connection);
        var versions = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }
        return versions;
    }

    [Fact]
    public async Task Several_providers_initializing_at_once_all_succeed()
    {
        // Tools (and, once partitions have owners, several silos) open one store at once: the migrations run once.
        var providers = Enumerable.Range(0, 4)
            .Select(_ => Track(new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = _connectionString, TimeProvider = Clock, OwnsStore = false })))
            .ToList();

        await Task.WhenAll(providers.Select(p => p.InitializeAsync()));

        var applied = await ReadAppliedMigrationsAsync();
        Assert.Equal(Enumerable.Range(1, applied.Count), applied);
        var outcomes = await providers[3].WriteStatesAsync([new StateWrite(Grain("after-init"), 0, Bytes("x"))]);
        Assert.True(outcomes[0].Applied);
    }

    /// <summary>A second silo started on the database of a running one (an operator's mistake) read stale copies of grains,
    /// answered 500s, deleted the first one's reminders and left its dispatch unable to save. It is refused at start,
    /// before it reads or writes anything, naming the database; once the first silo stops, a silo starts there.</summary>
    [Fact]
    public async Task A_second_silo_on_the_database_of_a_running_one_is_refused_until_the_first_stops()
    {
        var first = Track(CreateProvider());
        await first.InitializeAsync();
        await first.WriteStatesAsync([new StateWrite(Grain("owned"), 0, Bytes("v1"))]);
        var second = Track(CreateProvider());

        var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() => second.InitializeAsync());

        Assert.Contains("is in use by another silo", refused.Message);
        Assert.Contains(_database, refused.Message);
        await first.DisposeAsync();
        var next = Track(CreateProvider());
        await next.InitializeAsync();
        Assert.Equal(1, (await next.ReadStateAsync(Grain("owned")))?.Version);
    }

    /// <summary>The lock lives with its session: a database stopped for longer than a keeper round left the silo without
    /// it for good (nothing logged, still ready), and a second silo then started beside it. It is taken again once the
    /// database answers, and a second silo is refused again.</summary>
    [Fact]
    public async Task After_the_database_was_away_the_silo_takes_its_lock_again_and_a_second_silo_is_refused()
    {
        var (storage, _) = await OpenOutageStoreAsync();
        Track(storage);
        var connectionString = _outageCluster!.ConnectionString;

        await TakeStoreDownAsync();
        await Task.Delay(TimeSpan.FromSeconds(5)); // a keeper round or two finds the database away
        await BringStoreBackAsync();

        // Watched from the server's lock table: a probe taking the lock itself would be the second silo that fences the first.
        await Eventually.True(async () =>
        {
            try
            {
                await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
                await admin.OpenAsync();
                await using var held = new NpgsqlCommand(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = 5788057182495134291)",
                    admin);
                return await held.ExecuteScalarAsync() is true;
            }
            catch (NpgsqlException)
            {
                return false; // still starting up
            }
        }, "the first silo holds its lock again", timeoutMs: 20_000);
        await using var second = new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = connectionString, TimeProvider = Clock });
        var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() => second.InitializeAsync());
        Assert.Contains("is in use by another silo", refused.Message);
        // Its own writes are not fenced (the first may meet a pooled connection the restart ended, as any first write does).
        await Eventually.True(async () =>
        {
            try
            {
                return (await storage.WriteStatesAsync([new StateWrite(Grain("after"), 0, Bytes("v1"))]))[0].Applied;
            }
            catch (StorageUnavailableException)
            {
                return false;
            }
        }, "the silo writes again");
    }

    /// <summary>A closed port at start ended the silo with a stack trace once the lock was taken first: it is the one line
    /// of a store that does not answer.</summary>
    [Fact]
    public async Task A_server_that_does_not_answer_at_start_is_unavailable_naming_it()
    {
        var closed = new NpgsqlConnectionStringBuilder(_connectionString) { Port = 1, Timeout = 3 }.ConnectionString;
        await using var storage = new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = closed, TimeProvider = Clock });

        var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.InitializeAsync());

        Assert.Contains(":1/", refused.Message);
        Assert.Contains("is unavailable", refused.Message);
    }

    /// <summary>A database not yet created (the README's connection string before <c>createdb</c>) ended the silo with a
    /// stack trace: it is a <see cref="StorageUnavailableException"/> naming the server, PostgreSQL's reason and what to do,
    /// which the silo says in one line.</summary>
    [Fact]
    public async Task A_database_that_does_not_exist_is_refused_naming_the_server_and_what_to_do()
    {
        var missing = new NpgsqlConnectionStringBuilder(_connectionString) { Database = "missing_" + Guid.NewGuid().ToString("N") }.ConnectionString;
        await using var storage = new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = missing, TimeProvider = Clock });

        var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.InitializeAsync());

        Assert.Contains("refused the silo", refused.Message);
        Assert.Contains("3D000", refused.Message);
        Assert.Contains("Create the database first", refused.Message);
    }

    // Stopping the shared cluster would break the other tests, so the outage gets a small cluster of its own.
    protected override async Task<(IStorageProvider Storage, string Location)> OpenOutageStoreAsync()
    {
        _outageCluster = await PostgresCluster.StartAsync(new PostgresClusterOptions { Fsync = false, UseExternalServer = false });
        var storage = new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = _outageCluster.ConnectionString, TimeProvider = Clock });
        await storage.InitializeAsync();
        var server = new NpgsqlConnectionStringBuilder(_outageCluster.ConnectionString);
        return (storage, $"{server.Host}:{server.Port}");
    }

    protected override Task TakeStoreDownAsync() => _outageCluster!.StopAsync();

    protected override Task BringStoreBackAsync() => _outageCluster!.StartAgainAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        // A throwaway cluster goes away whole; an external server keeps whatever a test leaves on it.
        if (postgres.Cluster.IsExternal)
        {
            await postgres.Cluster.DropDatabaseAsync(_database);
        }
        if (_outageCluster is not null)
        {
            await _outageCluster.DisposeAsync();
        }
    }
}

using PowerService.Runtime.Storage;
using PowerService.Storage.PostgreSql;
using PowerService.TestSupport;

namespace PowerService.Runtime.Tests.Support;

public static class TestStores
{
    /// <summary>A factory for providers over one fresh PostgreSQL database. Each provider gets a small pool: tests run
    /// side by side against one server with a bounded number of connections. The providers do not take the silo lock:
    /// these tests run two silos on one store on purpose (a stale writer's etag conflict); the lock is the storage
    /// contract tests' subject.</summary>
    public static async Task<Func<IStorageProvider>> PostgreSqlAsync(PostgresFixture postgres, string purpose)
    {
        var connectionString = await postgres.Cluster.CreateDatabaseAsync($"{purpose}_{Guid.NewGuid():N}") + ";Maximum Pool Size=10";
        return () => new PostgreSqlStorageProvider(new PostgreSqlStorageOptions { ConnectionString = connectionString, OwnsStore = false });
    }
}
